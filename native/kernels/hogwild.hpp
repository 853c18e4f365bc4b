// The Hogwild training path (see kernels/train.hpp).
#pragma once
#include "kernels/train.hpp"

namespace dtlns {

TrainStats hogwildEpoch(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step);
// One step on n explicit triples (users[k], pos[k], neg[k]).
TrainStats hogwildStep(const ModelTables& model, const TrainConfig& config, uint64_t step, const uint32_t* users,
                       const uint32_t* pos, const uint32_t* neg, size_t n);

}  // namespace dtlns
