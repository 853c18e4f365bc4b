// Bit helpers shared by the kernels.
#pragma once
#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace dtlns {

// Index of the lowest set bit of v != 0.
inline uint32_t lowestBit(uint64_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long index;
  _BitScanForward64(&index, v);
  return uint32_t(index);
#else
  return uint32_t(__builtin_ctzll(v));
#endif
}

}  // namespace dtlns
