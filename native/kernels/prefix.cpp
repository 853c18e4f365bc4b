#include "kernels/prefix.hpp"

#include "kernels/parallel.hpp"

namespace dtlns {

void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out) {
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) out[t] = prefixSimilarity(paths, a[t], b[t]);
  });
}

void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out) {
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) out[t] = prefixSimilarity(paths, item, others[t]);
  });
}

}  // namespace dtlns
