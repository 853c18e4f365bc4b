// Training of MF and LightGCN with BPR loss (K-pair loss with K negatives per
// positive), the negative samplers of kernels/sampler.hpp and L2 on the batch's
// layer-0 rows, as LightGCN-PyTorch, MixGCF and the DTL-NS code do it.
//
// Two paths:
// - Mini-batch (every 'adam' run, LightGCN with >= 1 layer, the samplers that
//   score candidates, K > 1): per batch a forward pass, the candidates mined,
//   the mean loss, a backward pass into one gradient table and one optimizer
//   pass. Bit-identical for a given seed at ANY thread count: every gradient
//   row is summed by one thread in sample / CSR order.
// - Hogwild (MF, or 0 layers, with 'lazy-adam' or 'sgd', and one rns or pop
//   negative per positive): every sample is its own update of the per-sample
//   loss softplus(s_uj - s_ui) + l2/2 (|u|²+|i|²+|j|²) (not divided by the
//   batch size), applied lock-free by threads that work
//   on disjoint chunks of each batch. The batch only sets Adam's step t (one
//   per batch) and how losses are averaged. Bit-reproducible at 1 thread only:
//   with more, the interleaving of row updates depends on timing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/adam.hpp"
#include "kernels/bpr.hpp"
#include "kernels/sampler.hpp"

namespace dtlns {

enum class Model { MF, LightGCN };

// Training stopped because the loss or a parameter became NaN or infinite.
// The message starts with "ModelFitError:"; the tables are left as they were
// at the failure (partly updated).
struct ModelFitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The model's arrays, owned by the caller and updated in place.
struct ModelTables {
  float* userEmb;
  float* itemEmb;
  float* userM;  // Adam moments; null for sgd
  float* userV;
  float* itemM;
  float* itemV;
  uint32_t nUsers, nItems;
  size_t dim;
};

struct TrainConfig {
  Model model = Model::MF;
  int layers = 0;
  OptimizerConfig optimizer;
  float l2 = 1e-4f;
  size_t batch = 2048;
  uint64_t seed = 0;
  int threads = 1;
  SamplerConfig sampler;  // how negatives are drawn and chosen (kernels/sampler.hpp)
  // Dense Adam on MF (0 layers) defers each row's zero-gradient steps and
  // catches them up in closed form (kernels/deferred_adam.hpp): same results
  // to float rounding, O(touched rows) per step. false: every row every step.
  bool deferAdam = true;
  // Label uses (src/labels/use.ts). nonNegatives: the items never drawn as a negative
  // or hard-negative candidate, a superset of the positives (indptr null: the positives).
  // positiveWeights: each positive's weight in the loss, aligned with the positives'
  // indices (null: every weight 1).
  PositiveSets nonNegatives;
  const float* positiveWeights = nullptr;

  int effectiveLayers() const { return model == Model::MF ? 0 : layers; }
  const PositiveSets& rejection(const PositiveSets& positives) const {
    return nonNegatives.indptr ? nonNegatives : positives;
  }
  // Samplers that score candidates, K > 1 and weighted positives always take the mini-batch path.
  bool hogwild() const {
    return effectiveLayers() == 0 && optimizer.kind != Optimizer::Adam && sampler.perSample() && !positiveWeights;
  }
};

struct TrainStats {
  double loss = 0, bprLoss = 0, regLoss = 0;  // means over steps of the batch means
  uint64_t samples = 0;                      // triples trained on
  uint64_t skipped = 0;                      // positives without any negative
  uint64_t steps = 0;                        // optimizer steps (non-empty batches)
  uint64_t step = 0;                         // Adam step count after the call
  double seconds = 0;
};

// One epoch: every training interaction once (see EpochPlan). `step` is the
// Adam step count so far; batch b uses t = step + (non-empty batches before b) + 1.
TrainStats trainEpoch(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step);

// One step (one batch) on n explicit positives (users[k], pos[k]) and their
// negative draws (per config.sampler); config.batch and config.seed are unused.
// weights: each positive's loss weight (null: 1; weighted steps take the mini-batch path).
TrainStats trainStep(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step,
                     const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, size_t n,
                     const float* weights = nullptr);

// Final embeddings: mean over layers 0..layers of the propagation (copies for 0 layers).
void propagateFinal(const float* userEmb, const float* itemEmb, uint32_t nUsers, uint32_t nItems, size_t dim,
                    const PositiveSets& train, int layers, int threads, float* outUsers, float* outItems);

// The epoch's triples exactly as trainEpoch draws them with this seed and batch (rns).
SampledTriples sampleUniformEpoch(const PositiveSets& train, uint64_t seed, size_t batch, int threads);

}  // namespace dtlns
