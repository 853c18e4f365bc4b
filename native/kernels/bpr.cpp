#include "kernels/bpr.hpp"

namespace dtlns {
namespace {
constexpr int kRejectionTries = 64;
}

PairFilter::PairFilter(const PositiveSets& sets) {
  const size_t wanted = std::min(std::max<size_t>(sets.nnz(), 8), kMaxBytes) * 8;  // bits
  int log2Bits = 6;
  while ((size_t(1) << log2Bits) < wanted) ++log2Bits;
  shift_ = 64 - log2Bits;
  bits_.assign((size_t(1) << log2Bits) / 64, 0);
  for (uint32_t u = 0; u < sets.nUsers; ++u)
    for (uint32_t p = sets.indptr[u]; p < sets.indptr[u + 1]; ++p) {
      const uint64_t h = slot(u, sets.indices[p]);
      bits_[h >> 6] |= uint64_t(1) << (h & 63);
    }
}

uint32_t PositiveSets::nthNonPositive(uint32_t u, uint32_t r) const {
  // Below row[k] lie row[k] - k non-positives; find the first k where that exceeds r.
  const uint32_t* row = indices + indptr[u];
  size_t lo = 0, hi = degree(u);
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (row[mid] - mid > r)
      hi = mid;
    else
      lo = mid + 1;
  }
  return uint32_t(r + lo);
}

uint32_t drawUniformNegative(const PositiveSets& positives, uint32_t u, Rng& rng) {
  const uint32_t degree = positives.degree(u);
  if (degree >= positives.nItems) return kNoNegative;
  for (int attempt = 0; attempt < kRejectionTries; ++attempt) {
    const uint32_t j = rng.below(positives.nItems);
    if (!positives.contains(u, j)) return j;
  }
  return positives.nthNonPositive(u, rng.below(positives.nItems - degree));
}

uint32_t drawPopularNegative(const PositiveSets& positives, const AliasTable& popularity, uint32_t u, Rng& rng) {
  const uint32_t degree = positives.degree(u);
  if (degree >= positives.nItems) return kNoNegative;
  for (int attempt = 0; attempt < kRejectionTries; ++attempt) {
    const uint32_t j = popularity.draw(rng);
    if (!positives.contains(u, j)) return j;
  }
  double total = 0;
  for (uint32_t j = 0; j < positives.nItems; ++j)
    if (!positives.contains(u, j)) total += popularity.weight(j);
  if (!(total > 0)) return positives.nthNonPositive(u, rng.below(positives.nItems - degree));
  double target = rng.uniform64() * total;
  uint32_t last = kNoNegative;
  for (uint32_t j = 0; j < positives.nItems; ++j) {
    if (positives.contains(u, j) || popularity.weight(j) <= 0) continue;
    last = j;
    target -= popularity.weight(j);
    if (target < 0) return j;
  }
  return last;  // rounding left target at or just above 0
}

EpochPlan planEpoch(const PositiveSets& positives, uint64_t seed, size_t batch, PositiveOrder positiveOrder,
                    const float* weights) {
  EpochPlan plan;
  const size_t n = positives.nnz();
  plan.batch = batch;
  plan.seed = seed;
  plan.nBatches = (n + batch - 1) / batch;
  plan.chunksPerBatch = (batch + kSampleChunk - 1) / kSampleChunk;
  if (positiveOrder == PositiveOrder::UserUniform) {
    std::vector<uint32_t> active;
    for (uint32_t u = 0; u < positives.nUsers; ++u)
      if (positives.indptr[u + 1] > positives.indptr[u]) active.push_back(u);
    plan.users.resize(n);
    plan.items.resize(n);
    if (weights) plan.weights.resize(n);
    Rng rng(seed, 0);
    for (size_t k = 0; k < n; ++k) {
      const uint32_t u = active[rng.below(uint32_t(active.size()))];
      const uint32_t degree = positives.indptr[u + 1] - positives.indptr[u];
      const uint32_t edge = positives.indptr[u] + rng.below(degree);
      plan.users[k] = u;
      plan.items[k] = positives.indices[edge];
      if (weights) plan.weights[k] = weights[edge];
    }
    return plan;
  }
  CachedVector<uint32_t> order(n);
  for (size_t k = 0; k < n; ++k) order[k] = uint32_t(k);
  Rng rng(seed, 0);
  for (size_t k = n; k > 1; --k) std::swap(order[k - 1], order[rng.below(uint32_t(k))]);
  CachedVector<uint32_t> rowOf(n);
  for (uint32_t u = 0; u < positives.nUsers; ++u)
    for (uint32_t p = positives.indptr[u]; p < positives.indptr[u + 1]; ++p) rowOf[p] = u;
  plan.users.resize(n);
  plan.items.resize(n);
  for (size_t k = 0; k < n; ++k) {
    plan.users[k] = rowOf[order[k]];
    plan.items[k] = positives.indices[order[k]];
  }
  if (weights) {
    plan.weights.resize(n);
    for (size_t k = 0; k < n; ++k) plan.weights[k] = weights[order[k]];
  }
  return plan;
}

void drawChunkNegatives(const EpochPlan& plan, const PositiveSets& positives, size_t b, size_t c, uint32_t* neg,
                        const AliasTable* popularity) {
  Rng rng = plan.chunkRng(b, c);
  const size_t begin = plan.chunkBegin(b, c), end = plan.chunkEnd(b, c);
  constexpr size_t kAhead = 8;  // prefetch the positive rows the binary searches will read
  for (size_t k = begin; k < end; ++k) {
#if defined(__GNUC__) || defined(__clang__)
    if (k + kAhead < end) __builtin_prefetch(positives.indices + positives.indptr[plan.users[k + kAhead]]);
#endif
    neg[k - begin] = chooseNegative(positives, plan.users[k], plan.items[k], rng, popularity);
  }
}

}  // namespace dtlns
