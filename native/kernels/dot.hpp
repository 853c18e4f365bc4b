// The inner product of the kernels. One definition, so every path (mini-batch,
// MF Adam, mining) sums in the same vectorised order and agrees bit for bit.
#pragma once
#include <cstddef>

namespace dtlns {

inline float dot(const float* a, const float* b, size_t dim) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (size_t d = 0; d < dim; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace dtlns
