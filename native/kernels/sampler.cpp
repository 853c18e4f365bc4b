#include "kernels/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/errors.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

inline float dot(const float* a, const float* b, size_t dim) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (size_t d = 0; d < dim; ++d) s += a[d] * b[d];
  return s;
}

std::vector<double> popularityWeights(const PositiveSets& train, double exponent) {
  std::vector<double> weights(train.nItems, 0.0);
  for (size_t p = 0; p < train.nnz(); ++p) weights[train.indices[p]] += 1.0;
  for (double& w : weights) w = std::pow(w, exponent);  // 0^0 = 1: popAlpha 0 is uniform
  return weights;
}

// Index of the largest score, the first on ties.
inline uint32_t argmax(const float* scores, size_t count) {
  uint32_t best = 0;
  for (size_t c = 1; c < count; ++c)
    if (scores[c] > scores[best]) best = uint32_t(c);
  return best;
}

// The candidate of rank `rank` (0 = best) by score, ties to the lower index.
uint32_t rankedCandidate(const float* scores, size_t count, uint32_t rank, std::vector<uint32_t>& order) {
  order.resize(count);
  for (size_t c = 0; c < count; ++c) order[c] = uint32_t(c);
  std::partial_sort(order.begin(), order.begin() + rank + 1, order.end(), [&](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  return order[rank];
}

}  // namespace

Sampler::Sampler(const SamplerConfig& config, const PositiveSets& train) : config_(config) {
  if (config.negs < 1 || config.k < 1) throw InvalidArgument("Expected negs >= 1 and k >= 1");
  if (config.kind == SamplerKind::Dynamic && (config.dnsTopK < 1 || config.dnsTopK > config.negs))
    throw InvalidArgument("Expected dnsTopK in [1, negs]");
  if (config.kind == SamplerKind::DTLNS &&
      (config.pathsCo.nItems != train.nItems || config.pathsSe.nItems != train.nItems))
    throw InvalidArgument("Expected path codes for every item (pathsCo, pathsSe)");
  if (config.kind == SamplerKind::Popularity) {
    std::vector<double> weights = popularityWeights(train, config.popAlpha);
    double total = 0;
    for (double w : weights) total += w;
    // No item with a training interaction: popularity says nothing, draw uniformly.
    if (!(total > 0) || !std::isfinite(total)) weights.assign(train.nItems, 1.0);
    popularity_ = AliasTable(weights);
  }
}

bool Sampler::drawSample(const PositiveSets& train, uint32_t u, int layers, Rng& rng, uint32_t* candidates,
                         float* alphas, uint32_t* picks) const {
  if (train.degree(u) >= train.nItems) return false;
  const size_t nc = config_.candidatesPerSample();
  for (size_t c = 0; c < nc; ++c) candidates[c] = chooseNegative(train, u, 0, rng, popularity());
  const size_t na = config_.alphasPerSample(layers);
  for (size_t a = 0; a < na; ++a) alphas[a] = rng.uniform();
  const size_t np = config_.picksPerSample();
  for (size_t p = 0; p < np; ++p) picks[p] = rng.below(uint32_t(config_.dnsTopK));
  return true;
}

void BatchDraws::draw(const EpochPlan& plan, const PositiveSets& nonNegatives, const Sampler& sampler, int layers,
                      size_t b, int threads) {
  const SamplerConfig& c = sampler.config();
  const size_t begin = plan.batchBegin(b), end = plan.batchEnd(b), m = end - begin;
  const size_t nc = c.candidatesPerSample(), na = c.alphasPerSample(layers), np = c.picksPerSample();
  scratchCandidates_.resize(m * nc);
  scratchAlphas_.resize(m * na);
  scratchPicks_.resize(m * np);
  kept_.resize(m);
  const size_t chunks = (m + kSampleChunk - 1) / kSampleChunk;
  // About 64 operations per candidate (a binary search over the user's positives).
  parallelFor(threadsFor(threads, 64.0 * double(m * nc)), int64_t(chunks), [&](int64_t first, int64_t last, int) {
    for (int64_t ch = first; ch < last; ++ch) {
      Rng rng = plan.chunkRng(b, size_t(ch));
      for (size_t k = plan.chunkBegin(b, size_t(ch)); k < plan.chunkEnd(b, size_t(ch)); ++k) {
        const size_t r = k - begin;
        kept_[r] = sampler.drawSample(nonNegatives, plan.users[k], layers, rng, scratchCandidates_.data() + r * nc,
                                      scratchAlphas_.data() + r * na, scratchPicks_.data() + r * np);
      }
    }
  });
  users.clear();
  pos.clear();
  candidates.clear();
  alphas.clear();
  picks.clear();
  weights.clear();
  for (size_t r = 0; r < m; ++r) {
    if (!kept_[r]) {
      ++skipped;
      continue;
    }
    users.push_back(plan.users[begin + r]);
    pos.push_back(plan.items[begin + r]);
    if (!plan.weights.empty()) weights.push_back(plan.weights[begin + r]);
    candidates.insert(candidates.end(), scratchCandidates_.begin() + r * nc, scratchCandidates_.begin() + (r + 1) * nc);
    alphas.insert(alphas.end(), scratchAlphas_.begin() + r * na, scratchAlphas_.begin() + (r + 1) * na);
    picks.insert(picks.end(), scratchPicks_.begin() + r * np, scratchPicks_.begin() + (r + 1) * np);
  }
}

void mineNegatives(const SamplerConfig& config, const Propagation& prop, const uint32_t* users, const uint32_t* pos,
                   const NegativeDraws& draws, size_t n, int threads, bool keepLayerRows, MinedNegatives& out) {
  const NodeRows e0 = prop.layer(0);
  const uint32_t nU = e0.nUsers;
  const size_t dim = e0.dim, K = size_t(config.k), C = config.candidates();
  const int L = prop.layers();
  const size_t L1 = size_t(L) + 1;
  const bool mixes = config.mixes(), dtl = config.kind == SamplerKind::DTLNS;
  out.choice.resize(n * K * L1);
  out.items.resize(n * K * L1);
  out.pooled.resize(n * K * dim);
  out.layerRows.resize(keepLayerRows ? n * K * L1 * dim : 0);
  std::vector<NodeRows> layers;
  for (int l = 0; l <= L; ++l) layers.push_back(prop.layer(l));

  const double work = double(n * K * C) * double(dim) * 2.0 * double(mixes ? L1 : 1);
  parallelFor(threadsFor(threads, work), int64_t(n), [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(C), bonus(C);
    std::vector<uint32_t> order;
    std::vector<float> mixed(dim);
    // The rows a sample reads lie scattered over tables of many MB: fetch them a few samples ahead.
    auto prefetchSample = [&](int64_t k) {
      prefetchRow(prop.finalRow(users[k]), dim, false);
      const uint32_t* cand = draws.candidates + size_t(k) * K * C;
      for (size_t c = 0; c < K * C; ++c) {
        if (!mixes) prefetchRow(prop.finalRow(nU + cand[c]), dim, false);
        else
          for (size_t l = 0; l < L1; ++l) prefetchRow(layers[l].row(nU + cand[c]), dim, false);
      }
      if (mixes)
        for (size_t l = 0; l < L1; ++l) prefetchRow(layers[l].row(nU + pos[k]), dim, false);
    };
    constexpr int64_t kAhead = 3;
    for (int64_t k = begin; k < std::min(end, begin + kAhead); ++k) prefetchSample(k);
    for (int64_t k = begin; k < end; ++k) {
      if (k + kAhead < end) prefetchSample(k + kAhead);
      const uint32_t u = users[k], i = pos[k];
      const float* fu = prop.finalRow(u);
      for (size_t s = 0; s < K; ++s) {
        const size_t group = size_t(k) * K + s;
        const uint32_t* cand = draws.candidates + group * C;
        uint32_t* choice = out.choice.data() + group * L1;
        uint32_t* items = out.items.data() + group * L1;
        float* pooled = out.pooled.data() + group * dim;
        if (!mixes) {
          for (size_t c = 0; c < C; ++c) scores[c] = dot(fu, prop.finalRow(nU + cand[c]), dim);
          const uint32_t best = config.dnsTopK > 1 ? rankedCandidate(scores.data(), C, draws.picks[group], order)
                                                   : argmax(scores.data(), C);
          std::fill(choice, choice + L1, best);
          std::fill(items, items + L1, cand[best]);
          const float* f = prop.finalRow(nU + cand[best]);
          std::copy(f, f + dim, pooled);
          if (keepLayerRows)
            for (size_t l = 0; l < L1; ++l) {
              const float* row = layers[l].row(nU + cand[best]);
              std::copy(row, row + dim, out.layerRows.data() + (group * L1 + l) * dim);
            }
          continue;
        }
        if (dtl)
          for (size_t c = 0; c < C; ++c)
            bonus[c] = config.alphaCo * prefixSimilarity(config.pathsCo, i, cand[c]) +
                       config.alphaSe * prefixSimilarity(config.pathsSe, i, cand[c]);
        std::fill(pooled, pooled + dim, 0.f);
        for (size_t l = 0; l < L1; ++l) {
          const float a = draws.alphas[group * L1 + l];
          const float* ei = layers[l].row(nU + i);
          // <F_u, a e_i + (1 - a) e_j> for every candidate j.
          const float positive = a * dot(fu, ei, dim);
          for (size_t c = 0; c < C; ++c) scores[c] = positive + (1.f - a) * dot(fu, layers[l].row(nU + cand[c]), dim);
          if (dtl) {
            const float lo = *std::min_element(scores.begin(), scores.end());
            const float hi = *std::max_element(scores.begin(), scores.end());
            const float span = hi - lo + 1e-8f;
            for (size_t c = 0; c < C; ++c) scores[c] = (scores[c] - lo) / span + bonus[c];
          }
          const uint32_t best = argmax(scores.data(), C);
          choice[l] = best;
          items[l] = cand[best];
          const float* ej = layers[l].row(nU + cand[best]);
          for (size_t d = 0; d < dim; ++d) mixed[d] = a * ei[d] + (1.f - a) * ej[d];
          for (size_t d = 0; d < dim; ++d) pooled[d] += mixed[d];
          if (keepLayerRows) std::copy(mixed.begin(), mixed.end(), out.layerRows.data() + (group * L1 + l) * dim);
        }
        for (size_t d = 0; d < dim; ++d) pooled[d] /= float(L1);
      }
    }
  });
}

SampledTriples sampleEpochNegatives(const PositiveSets& train, const PositiveSets& nonNegatives, const Sampler& sampler,
                                    uint64_t seed, size_t batch, int threads) {
  const EpochPlan plan = planEpoch(train, seed, batch, sampler.config().positives);
  SampledTriples out;
  BatchDraws draws;
  for (size_t b = 0; b < plan.nBatches; ++b) {
    draws.draw(plan, nonNegatives, sampler, 0, b, threads);
    out.users.insert(out.users.end(), draws.users.begin(), draws.users.end());
    out.pos.insert(out.pos.end(), draws.pos.begin(), draws.pos.end());
    out.neg.insert(out.neg.end(), draws.candidates.begin(), draws.candidates.end());
  }
  out.skipped = draws.skipped;
  return out;
}

}  // namespace dtlns
