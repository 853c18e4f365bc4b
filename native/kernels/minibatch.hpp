// The mini-batch training path (see kernels/train.hpp): every 'adam' run, LightGCN
// with >= 1 layer, the samplers that score candidates, K > 1, weighted positives.
#pragma once
#include "kernels/train.hpp"

namespace dtlns {

TrainStats minibatchEpoch(const ModelTables& model, const PositiveSets& train, const TrainConfig& config,
                          uint64_t step);
TrainStats minibatchStep(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step,
                         const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, size_t n,
                         const float* weights);

}  // namespace dtlns
