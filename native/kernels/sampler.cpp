#include "kernels/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/errors.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

std::vector<double> popularityWeights(const PositiveSets& train, double exponent) {
  std::vector<double> weights(train.nItems, 0.0);
  for (size_t p = 0; p < train.nnz(); ++p) weights[train.indices[p]] += 1.0;
  for (double& w : weights) w = std::pow(w, exponent);  // 0^0 = 1: popAlpha 0 is uniform
  return weights;
}

}  // namespace

Sampler::Sampler(const SamplerConfig& config, const PositiveSets& train) : config_(config) {
  if ((config.scores() && config.negs < 1) || config.k < 1) throw InvalidArgument("Expected negs >= 1 and k >= 1");
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

SampledTriples sampleEpochNegatives(const PositiveSets& train, const PositiveSets& nonNegatives, const Sampler& sampler,
                                    uint64_t seed, size_t batch, int threads) {
  const EpochPlan plan = planEpoch(train, seed, batch, sampler.config().positives);
  const PairFilter filter(nonNegatives);
  const PositiveSets filtered = nonNegatives.filteredBy(filter);
  SampledTriples out;
  BatchDraws draws;
  for (size_t b = 0; b < plan.nBatches; ++b) {
    draws.draw(plan, filtered, sampler, 0, b, threads);
    out.users.insert(out.users.end(), draws.users.begin(), draws.users.end());
    out.pos.insert(out.pos.end(), draws.pos.begin(), draws.pos.end());
    out.neg.insert(out.neg.end(), draws.candidates.begin(), draws.candidates.end());
  }
  out.skipped = draws.skipped;
  return out;
}

}  // namespace dtlns
