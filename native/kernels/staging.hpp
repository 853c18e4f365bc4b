// Staging of a caller's float array in memory backed by transparent huge
// pages for the length of one kernel call. Random row access over tables of
// tens of MB misses the TLB on nearly every row with 4 KiB pages; the caller's
// arrays (V8 ArrayBuffers) cannot be given huge pages after the fact, so hot
// tables are copied in, used, and copied back. Where THP is unavailable
// (non-Linux) the original array is used directly.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dtlns {

class HugePageCopy {
 public:
  HugePageCopy(float* original, size_t n) : original_(original), n_(n), data_(original) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = n * sizeof(float);
    if (!original || bytes < kHuge) return;  // small tables fit the TLB anyway
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) return;
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
    std::memcpy(p, original, bytes);
    data_ = static_cast<float*>(p);
    owned_ = true;
#endif
  }
  HugePageCopy(const HugePageCopy&) = delete;
  HugePageCopy& operator=(const HugePageCopy&) = delete;
  ~HugePageCopy() {
    if (owned_) std::free(data_);
  }

  float* data() const { return data_; }
  // Copies the staged values back into the caller's array.
  void writeBack() const {
    if (owned_) std::memcpy(original_, data_, n_ * sizeof(float));
  }

 private:
  float* original_;
  size_t n_;
  float* data_;
  bool owned_ = false;
};

}  // namespace dtlns
