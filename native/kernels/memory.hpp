// Memory placement for kernels that read embedding rows at random.
// Random row access over tables of tens of MB misses the TLB on nearly every
// row with 4 KiB pages, so large working buffers are backed by transparent
// huge pages, and the caller's hot arrays (V8 ArrayBuffers, which cannot get
// huge pages after the fact) are staged: copied in, used, copied back. Where
// THP is unavailable the original array is used directly. Rows about to be
// read are prefetched a few accesses ahead.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#elif defined(_WIN32)
#include <malloc.h>
#endif

namespace dtlns {

inline void prefetchRow(const float* row, size_t dim, bool forWrite) {
#if defined(__GNUC__) || defined(__clang__)
  for (size_t d = 0; d < dim; d += 16) {
    if (forWrite)
      __builtin_prefetch(row + d, 1, 3);
    else
      __builtin_prefetch(row + d, 0, 3);
  }
#endif
}

inline void prefetchWord(const void* address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#endif
}

// An uninitialised float array, backed by transparent huge pages when it is
// at least one huge page long (Linux), else 64-byte aligned.
class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t n) : n_(n) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = n * sizeof(float);
    const size_t align = bytes >= kHuge ? kHuge : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    data_ = static_cast<float*>(allocate(align, rounded ? rounded : align));
    if (!data_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == kHuge) madvise(data_, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
  }
  HugeBuffer(HugeBuffer&& other) noexcept : data_(other.data_), n_(other.n_) {
    other.data_ = nullptr;
    other.n_ = 0;
  }
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(n_, other.n_);
    return *this;
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  ~HugeBuffer() { release(data_); }

  float* data() const { return data_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }

 private:
  float* data_ = nullptr;
  size_t n_ = 0;

#if defined(_WIN32)
  static void* allocate(size_t align, size_t bytes) { return _aligned_malloc(bytes, align); }
  static void release(void* p) { _aligned_free(p); }
#else
  static void* allocate(size_t align, size_t bytes) { return std::aligned_alloc(align, bytes); }
  static void release(void* p) { std::free(p); }
#endif
};

// A caller's array staged in a HugeBuffer for one call; small or absent
// arrays are used in place.
class HugePageCopy {
 public:
  HugePageCopy(float* original, size_t n) : original_(original), data_(original) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (original && n * sizeof(float) >= (size_t(2) << 20)) {
      copy_ = HugeBuffer(n);
      std::memcpy(copy_.data(), original, n * sizeof(float));
      data_ = copy_.data();
    }
#endif
  }
  float* data() const { return data_; }
  // Copies the staged values back into the caller's array.
  void writeBack() const {
    if (!copy_.empty()) std::memcpy(original_, copy_.data(), copy_.size() * sizeof(float));
  }

 private:
  float* original_;
  float* data_;
  HugeBuffer copy_;
};

}  // namespace dtlns
