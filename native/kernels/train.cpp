#include "kernels/train.hpp"

#include <algorithm>

#include "kernels/hogwild.hpp"
#include "kernels/lightgcn.hpp"
#include "kernels/minibatch.hpp"

namespace dtlns {

TrainStats trainEpoch(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step) {
  return config.hogwild() ? hogwildEpoch(model, train, config, step) : minibatchEpoch(model, train, config, step);
}

TrainStats trainStep(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step,
                     const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, size_t n,
                     const float* weights) {
  // rns / pop on the Hogwild path: the candidates are the negatives, one per positive.
  if (config.hogwild() && !weights) return hogwildStep(model, config, step, users, pos, draws.candidates, n);
  return minibatchStep(model, train, config, step, users, pos, draws, n, weights);
}

void propagateFinal(const float* userEmb, const float* itemEmb, uint32_t nUsers, uint32_t nItems, size_t dim,
                    const PositiveSets& train, int layers, int threads, float* outUsers, float* outItems) {
  NormalizedAdjacency adjacency;
  if (layers > 0) adjacency = buildNormalizedAdjacency(train);
  Propagation prop(layers > 0 ? &adjacency : nullptr, nUsers, nItems, layers, dim);
  prop.forwardAll(NodeRows{userEmb, itemEmb, nUsers, dim}, threads);
  std::copy(prop.finalRow(0), prop.finalRow(0) + size_t(nUsers) * dim, outUsers);
  std::copy(prop.finalRow(nUsers), prop.finalRow(nUsers) + size_t(nItems) * dim, outItems);
}

SampledTriples sampleUniformEpoch(const PositiveSets& train, uint64_t seed, size_t batch, int threads) {
  return sampleEpochNegatives(train, train, Sampler(SamplerConfig{}, train), seed, batch, threads);
}

}  // namespace dtlns
