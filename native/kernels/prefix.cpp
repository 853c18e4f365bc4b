#include "kernels/prefix.hpp"

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

}  // namespace

void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out) {
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      if (t + kPrefetchPairs < end) {
        prefetchPath(paths, a[t + kPrefetchPairs]);
        prefetchPath(paths, b[t + kPrefetchPairs]);
      }
      out[t] = prefixSimilarity(paths, a[t], b[t]);
    }
  });
}

void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out) {
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      if (t + kPrefetchPairs < end) prefetchPath(paths, others[t + kPrefetchPairs]);
      out[t] = prefixSimilarity(paths, item, others[t]);
    }
  });
}

}  // namespace dtlns
