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
#include <map>
#include <mutex>
#include <new>
#include <utility>
#include <vector>
#include <algorithm>

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

// Freed HugeBuffer blocks, kept for the next allocation of the same size. Every
// epoch is one native call that allocates the same staged tables, layers and
// gradients again, and fresh memory costs a page fault per page when first
// written: in the microVM the benchmarks run in about 15 us per 4 KiB page, which
// made a Gowalla epoch's planning 14x slower than its work. At most kKeptBytes
// are kept (freed beyond that); the memory stays with the process, as a caching
// allocator's does.
class BlockCache {
 public:
  static constexpr size_t kKeptBytes = size_t(512) << 20;

  // Never destroyed: a call still running on a worker thread when the process exits
  // may free its buffers after static destructors have run.
  static BlockCache& instance() {
    static BlockCache* cache = new BlockCache;
    return *cache;
  }
  // A kept block of exactly this alignment and size, or null.
  void* take(size_t align, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = blocks_.find({align, bytes});
    if (it == blocks_.end()) return nullptr;
    void* p = it->second;
    blocks_.erase(it);
    kept_ -= bytes;
    return p;
  }
  // Keeps p for a later take(); false (the caller frees it) when the cache is full.
  bool keep(void* p, size_t align, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (kept_ + bytes > kKeptBytes) return false;
    blocks_.emplace(std::make_pair(align, bytes), p);
    kept_ += bytes;
    return true;
  }
  // Plain aligned memory, and its release (blocks the cache does not keep).
  static void* allocate(size_t align, size_t bytes) {
#if defined(_WIN32)
    return _aligned_malloc(bytes, align);
#else
    return std::aligned_alloc(align, bytes);
#endif
  }
  static void free(void* p) {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
  }

 private:
  std::mutex mutex_;
  std::multimap<std::pair<size_t, size_t>, void*> blocks_;
  size_t kept_ = 0;
};

// A std::allocator for the arrays rebuilt at every call (an epoch's plan): blocks of
// at least kMinBytes come from and go back to the BlockCache.
template <class T>
struct CachedAllocator {
  using value_type = T;
  static constexpr size_t kMinBytes = size_t(64) << 10;
  static constexpr size_t kAlign = 64;

  CachedAllocator() = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = rounded(n);
    void* p = bytes >= kMinBytes ? BlockCache::instance().take(kAlign, bytes) : nullptr;
    if (!p) p = BlockCache::allocate(kAlign, bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = rounded(n);
    if (bytes < kMinBytes || !BlockCache::instance().keep(p, kAlign, bytes)) BlockCache::free(p);
  }
  template <class U>
  bool operator==(const CachedAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const CachedAllocator<U>&) const noexcept { return false; }

 private:
  static size_t rounded(size_t n) { return std::max<size_t>(kAlign, (n * sizeof(T) + kAlign - 1) / kAlign * kAlign); }
};

template <class T>
using CachedVector = std::vector<T, CachedAllocator<T>>;

// Room for n elements, the capacity rounded up to a power of two: a buffer rebuilt
// at every call then asks the BlockCache for the same few sizes and gets their
// blocks back, where growing to each batch's need took fresh memory every epoch
// (a page fault per 4 KiB, about 15 us each in this microVM).
template <class T>
void reserveRounded(CachedVector<T>& v, size_t n) {
  if (v.capacity() >= n) return;
  size_t capacity = 1;
  while (capacity < n) capacity <<= 1;
  v.reserve(capacity);
}

// An uninitialised float array (its memory may have held another buffer's values),
// backed by transparent huge pages when it is at least one huge page long (Linux),
// else 64-byte aligned.
class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t n) : n_(n) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = n * sizeof(float);
    align_ = bytes >= kHuge ? kHuge : 64;
    bytes_ = bytes ? (bytes + align_ - 1) / align_ * align_ : align_;
    data_ = static_cast<float*>(BlockCache::instance().take(align_, bytes_));
    if (data_) return;
    data_ = static_cast<float*>(BlockCache::allocate(align_, bytes_));
    if (!data_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align_ == kHuge) madvise(data_, bytes_, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
  }
  HugeBuffer(HugeBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), n_(std::exchange(other.n_, 0)), align_(other.align_),
        bytes_(other.bytes_) {}
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(n_, other.n_);
    std::swap(align_, other.align_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  ~HugeBuffer() {
    if (data_ && !BlockCache::instance().keep(data_, align_, bytes_)) BlockCache::free(data_);
  }

  float* data() const { return data_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }

 private:
  float* data_ = nullptr;
  size_t n_ = 0;
  size_t align_ = 64, bytes_ = 0;
};

// A caller's array staged in a HugeBuffer for one call; small or absent
// arrays are used in place. Given a row order (rows of dim floats, row r
// staged as row newRow[r]), it is always copied, and written back in the
// caller's order.
class HugePageCopy {
 public:
  HugePageCopy(float* original, size_t n, const uint32_t* newRow = nullptr, size_t dim = 0)
      : original_(original), data_(original), newRow_(newRow), dim_(dim) {
    if (original && newRow && n) {
      copy_ = HugeBuffer(n);
      for (size_t r = 0; r < n / dim; ++r)
        std::memcpy(copy_.data() + size_t(newRow[r]) * dim, original + r * dim, dim * sizeof(float));
      data_ = copy_.data();
      return;
    }
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
    if (copy_.empty()) return;
    if (!newRow_) {
      std::memcpy(original_, copy_.data(), copy_.size() * sizeof(float));
      return;
    }
    for (size_t r = 0; r < copy_.size() / dim_; ++r)
      std::memcpy(original_ + r * dim_, copy_.data() + size_t(newRow_[r]) * dim_, dim_ * sizeof(float));
  }

 private:
  float* original_;
  float* data_;
  const uint32_t* newRow_;
  size_t dim_;
  HugeBuffer copy_;
};

}  // namespace dtlns
