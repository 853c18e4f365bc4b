// Prefix similarity of tree paths (DTL-NS): sim(i,j) = LCP(path_i, path_j) /
// min(len_i, len_j), over paths packed as an nItems x maxDepth int32 matrix
// (-1 padded) with per-item lengths. A pair where either path is empty scores 0.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace dtlns {

struct PackedPaths {
  const int32_t* codes = nullptr;    // nItems x maxDepth
  const int32_t* lengths = nullptr;  // nItems, each in [0, maxDepth]
  size_t nItems = 0;
  size_t maxDepth = 0;
};

inline float prefixSimilarity(const PackedPaths& p, uint32_t i, uint32_t j) {
  const int32_t shorter = std::min(p.lengths[i], p.lengths[j]);
  if (shorter <= 0) return 0.f;
  const int32_t* a = p.codes + size_t(i) * p.maxDepth;
  const int32_t* b = p.codes + size_t(j) * p.maxDepth;
  int32_t common = 0;
  while (common < shorter && a[common] == b[common]) ++common;
  return float(common) / float(shorter);
}

// out[t] = sim(a[t], b[t]) for t in [0, count).
void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out);

// out[t] = sim(item, others[t]) for t in [0, count).
void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out);

}  // namespace dtlns
