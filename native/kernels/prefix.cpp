#include "kernels/prefix.hpp"

#include <utility>
#include <vector>

#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"

namespace dtlns {
namespace {

// Pairs name random rows of a table that outgrows the caches: the rows are
// fetched this many pairs ahead, so several misses are in flight at once.
constexpr int64_t kPrefetchPairs = 16;

inline void prefetchPath(const PackedPaths& p, uint32_t item) {
  prefetchWord(p.codes + size_t(item) * p.maxDepth);
  prefetchWord(p.lengths + item);
}

// Ids were checked when the call was made; the arrays are the caller's (not copied), so an id
// is clamped once read: a caller that rewrites them during the call gets wrong numbers, never a
// read out of bounds.
inline uint32_t clampId(uint32_t id, size_t nItems) { return std::min<uint32_t>(id, uint32_t(nItems - 1)); }

template <class Pair>
void forPairs(const PackedPaths& paths, size_t count, int threads, float* out, Pair&& pair) {
  PathKeys keys;
  if (count >= paths.nItems && keys.build(paths, threads)) {
    parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
      for (int64_t t = begin; t < end; ++t) {
        const auto [i, j] = pair(t);
        out[t] = keys.similarity(i, j);
      }
    });
    return;
  }
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      if (t + kPrefetchPairs < end) {
        const auto [i, j] = pair(t + kPrefetchPairs);
        prefetchPath(paths, i);
        prefetchPath(paths, j);
      }
      const auto [i, j] = pair(t);
      out[t] = prefixSimilarity(paths, i, j);
    }
  });
}

inline unsigned bitWidth(uint64_t v) {
  unsigned w = 0;
  while (v >> w) ++w;
  return w;
}

}  // namespace

bool PathKeys::build(const PackedPaths& p, int threads) {
  uint32_t maxCode = 0;
  for (size_t i = 0; i < p.nItems; ++i) {
    const int32_t* row = p.codes + i * p.maxDepth;
    for (int32_t l = 0; l < p.lengths[i]; ++l) {
      if (row[l] < 0) return false;
      maxCode = std::max(maxCode, uint32_t(row[l]));
    }
  }
  width_ = std::max(1u, bitWidth(maxCode));
  shift_ = unsigned(p.maxDepth) * width_;
  if (shift_ + bitWidth(p.maxDepth) > 64) return false;
  for (unsigned bit = 0; bit < 64; ++bit) level_[bit] = uint8_t(bit / width_);
  keys_.resize(p.nItems);
  parallelFor(threads, int64_t(p.nItems), [&](int64_t begin, int64_t end, int) {
    for (size_t i = size_t(begin); i < size_t(end); ++i) {
      const int32_t* row = p.codes + i * p.maxDepth;
      uint64_t key = uint64_t(p.lengths[i]) << shift_;
      for (int32_t l = 0; l < p.lengths[i]; ++l) key |= uint64_t(row[l]) << (unsigned(l) * width_);
      keys_[i] = key;
    }
  });
  pathMask_ = (uint64_t(1) << shift_) - 1;  // shift_ < 64: the length takes at least one bit
  return true;
}

void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out) {
  if (count == 0) return;
  const size_t n = paths.nItems;
  forPairs(paths, count, threads, out,
           [=](int64_t t) { return std::pair<uint32_t, uint32_t>(clampId(a[t], n), clampId(b[t], n)); });
}

void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out) {
  if (count == 0) return;
  const size_t n = paths.nItems;
  forPairs(paths, count, threads, out,
           [=](int64_t t) { return std::pair<uint32_t, uint32_t>(item, clampId(others[t], n)); });
}

}  // namespace dtlns
