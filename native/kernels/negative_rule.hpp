// The seam between the mini-batch trainer (kernels/minibatch.cpp) and the sampler
// kinds: a NegativeRule owns what a kind does inside a training step, so the trainer
// never asks which kind it runs. Drawing (how many candidates, mixing weights and
// picks a sample draws) is SamplerConfig's and kernels/sampler.cpp's.
//
// Adding a sampler: a SamplerKind (with its draws in SamplerConfig::scores() / mixes()),
// one file under kernels/samplers/ with its rule and its make*Rule(), a line in
// makeNegativeRule(), and its fields in binding/sampler_args.hpp (README, "Adding a sampler").
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/lightgcn.hpp"
#include "kernels/sampler.hpp"

namespace dtlns {

// The batch a rule works on: n positives with their draws, and the forward pass
// (which had every user, positive and candidate among its targets). Ids are the
// propagation's: after a NodeOrder, originalNode maps each node back.
struct StepBatch {
  const Propagation* prop;
  const uint32_t* users;
  const uint32_t* pos;
  NegativeDraws draws;
  size_t n;
  const uint32_t* originalNode = nullptr;  // null: the ids are the original ones
};

// The thread that adds into a gradient row: node % owners == owner, so each row is
// summed by one thread in sample order whatever the thread count.
struct RowOwner {
  int64_t owner, owners;
  bool owns(uint32_t node) const { return int64_t(node % uint64_t(owners)) == owner; }
};

// Index of the largest score, the first on ties.
inline uint32_t argmax(const float* scores, size_t count) {
  uint32_t best = 0;
  for (size_t c = 1; c < count; ++c)
    if (scores[c] > scores[best]) best = uint32_t(c);
  return best;
}

class NegativeRule {
 public:
  explicit NegativeRule(const SamplerConfig& config) : config_(config) {}
  virtual ~NegativeRule() = default;

  // L2 occurrences of each drawn candidate: 1 when the candidates are the negatives,
  // 0 when the rule chooses among them (only the chosen one is trained on).
  virtual uint32_t candidateOccurrences() const = 0;
  // After the forward pass: chooses the batch's negatives, adds an L2 occurrence for
  // each chosen item trained on its own layer-0 row, and names the rows that carry
  // gradient to the propagation. The batch's arrays must outlive the step.
  virtual void choose(const StepBatch& batch, int threads, uint32_t* occurrences, Propagation& prop) = 0;
  // After choose(), negative s of sample k: its final embedding (scored against F_u) ...
  virtual const float* finalRow(size_t k, size_t s) const = 0;
  // ... the squared norm of the layer-0 row its L2 term acts on (scratch: dim floats) ...
  virtual float layer0Norm(size_t k, size_t s, float* scratch) const = 0;
  // ... and its gradient, g = dL/dx_s with x_s = <F_u, negative> - <F_u, F_i>, into the
  // rows `owner` owns (fu: the user's final row; scratch: dim floats).
  virtual void addGradient(size_t k, size_t s, float g, const float* fu, float regScale, const RowOwner& owner,
                           Propagation& prop, float* scratch) const = 0;
  // Rows of dim touched per negative by addGradient (sizes the thread count).
  virtual double gradientRows(size_t layers1) const = 0;
  // Whether the step reads the candidates' final rows; when not, the forward pass
  // computes the final rows of the users and positives only.
  virtual bool readsCandidateFinals() const { return true; }

 protected:
  SamplerConfig config_;
};

// The rule of config.kind.
std::unique_ptr<NegativeRule> makeNegativeRule(const SamplerConfig& config);

// ---------------------------------------------------------------- rule families

// The negatives are the drawn items themselves (rns, pop).
std::unique_ptr<NegativeRule> makeDrawnRule(const SamplerConfig& config);

// <F_u, T_t(j)> for every item j of a batch (items: perSample per user of the n
// users, e.g. the candidates in the order of their draws) and every item table
// T_t: dots[t * slots + slot]. The items are visited in ascending order, so their
// rows are read nearly as a stream over tables of several MB while the batch's
// user rows stay in cache; sample by sample, every item row was a cache miss.
// Each is the same dot() on the same rows as a per-sample loop, so the same float.
class CandidateDots {
 public:
  std::vector<float> dots;
  void score(const Propagation& prop, const uint32_t* users, const uint32_t* items, size_t n, size_t perSample,
             const std::vector<const float*>& itemTables, int threads);

 private:
  std::vector<uint32_t> start_, order_;
};

// Rules that choose among the candidates with the model (mineNegatives); chosen()
// holds their choice after choose().
class MiningRule : public NegativeRule {
 public:
  using NegativeRule::NegativeRule;
  uint32_t candidateOccurrences() const override { return 0; }
  // The choice among explicit candidates (also native mineNegatives); out.layerRows
  // only with keepLayerRows.
  virtual void mine(const StepBatch& batch, int threads, bool keepLayerRows, MinedNegatives& out) const = 0;

 protected:
  MinedNegatives mined_;
  StepBatch batch_{};
  // mine()'s scratch, kept across batches.
  mutable CandidateDots dots_;
  // Only the users, positives and chosen items carry gradient, not every candidate.
  void restrictToChosen(Propagation& prop, bool layerGradients);

 private:
  std::vector<uint8_t> carries_;
  std::vector<uint32_t> lossRows_;
};

// The negative is one candidate, scored <F_u, F_j> on the final embeddings; pick()
// says which (dns: the best or a random one of the best few; ahns: the one nearest
// its hardness target).
class ChosenItemRule : public MiningRule {
 public:
  using MiningRule::MiningRule;
  void choose(const StepBatch& batch, int threads, uint32_t* occurrences, Propagation& prop) override;
  const float* finalRow(size_t k, size_t s) const override;
  float layer0Norm(size_t k, size_t s, float* scratch) const override;
  void addGradient(size_t k, size_t s, float g, const float* fu, float regScale, const RowOwner& owner,
                   Propagation& prop, float* scratch) const override;
  double gradientRows(size_t) const override { return 1; }
  void mine(const StepBatch& batch, int threads, bool keepLayerRows, MinedNegatives& out) const override;

 protected:
  // The chosen index among `count` candidate scores; fu, fi: the final rows of the
  // user and the positive; rank: the group's random pick (0 when none is drawn);
  // order: scratch.
  virtual uint32_t pick(const float* scores, size_t count, const float* fu, const float* fi, size_t dim, uint32_t rank,
                        std::vector<uint32_t>& order) const = 0;

 private:
  uint32_t item(size_t k, size_t s) const;
};

// The negative mixes the positive into the candidates per layer, ẽ^l = a_l E^l_i +
// (1 - a_l) E^l_c, and takes the best-scored candidate per layer (hop mixing); the
// loss back-propagates through the mixing (mixgcf, dtlns).
class MixingRule : public MiningRule {
 public:
  using MiningRule::MiningRule;
  void choose(const StepBatch& batch, int threads, uint32_t* occurrences, Propagation& prop) override;
  const float* finalRow(size_t k, size_t s) const override;
  float layer0Norm(size_t k, size_t s, float* scratch) const override;
  void addGradient(size_t k, size_t s, float g, const float* fu, float regScale, const RowOwner& owner,
                   Propagation& prop, float* scratch) const override;
  double gradientRows(size_t layers1) const override { return double(2 * layers1 + 2); }
  // Candidates are scored on their layer rows, the negative is their mix.
  bool readsCandidateFinals() const override { return false; }
  void mine(const StepBatch& batch, int threads, bool keepLayerRows, MinedNegatives& out) const override;

 protected:
  // Per group, before its layers: an additive score term per candidate (bonus, C floats), if
  // any; positive and candidates are original item ids.
  virtual void groupBonus(uint32_t positive, const uint32_t* candidates, size_t count, float* bonus) const {}
  // Per layer: the final scores from the mixed ones (in place); bonus as groupBonus left it.
  virtual void adjustScores(float* scores, size_t count, const float* bonus) const {}

 private:
  void mixedLayer0(size_t k, size_t s, float* out) const;
  mutable CandidateDots positiveDots_;  // mine()'s <F_u, E^l_i>, kept across batches
};

std::unique_ptr<NegativeRule> makeDnsRule(const SamplerConfig& config);
std::unique_ptr<NegativeRule> makeAhnsRule(const SamplerConfig& config);
std::unique_ptr<NegativeRule> makeMixGcfRule(const SamplerConfig& config);
std::unique_ptr<NegativeRule> makeDtlnsRule(const SamplerConfig& config);

}  // namespace dtlns
