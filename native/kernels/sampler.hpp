// Negative samplers: one interface for the epoch and step kernels.
//
//   rns     a uniform non-positive item.
//   pop     a non-positive item with probability proportional to popularity^popAlpha
//           (popularity = training interactions of the item; popAlpha >= 0, 0 is
//           uniform), via an alias table.
//   dns, ahns, mixgcf, dtlns  negs uniform candidates per negative, among which the
//           sampler's rule chooses with the model (kernels/negative_rule.hpp, and one
//           file per sampler under kernels/samplers/ that describes it).
//
// K negatives per positive (k > 1): each from its own group of candidates, trained
// with the K-pair loss log(1 + Σ_k exp(s_uk - s_ui)) of MixGCF's create_bpr_loss.
//
// Every random draw of a sample (its k x candidates items, then its k x (L+1) mixing
// weights, then its k dns picks) comes from the stream of its chunk (bpr.hpp), so the
// draws depend only on (seed, position), never on the thread count. Ties in an argmax
// go to the lowest candidate index.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/alias.hpp"
#include "kernels/bpr.hpp"
#include "kernels/lightgcn.hpp"
#include "kernels/prefix.hpp"

namespace dtlns {

enum class SamplerKind { Uniform, Popularity, Dynamic, Ahns, MixGCF, DTLNS };

// The hyperparameters have no defaults here: the caller sets those of its sampler
// (the library's defaults are declared once, in src/defaults.ts). The zeros below
// are refused where they matter (negs, dnsTopK); rns with k = 1 needs nothing.
struct SamplerConfig {
  SamplerKind kind = SamplerKind::Uniform;
  int negs = 0;            // candidates per negative (dns: M; the others: n_negs); rns and pop draw 1
  int k = 1;               // negatives per positive
  double popAlpha = 0;     // pop: weight = popularity^popAlpha
  int dnsTopK = 0;         // dns: choose at random among this many best candidates
  float alphaCo = 0;       // dtlns: weight of the structural-tree similarity
  float alphaSe = 0;       // dtlns: weight of the semantic-tree similarity
  double ahnsAlpha = 0;    // ahns: the hardness target beta (s_ui + alpha)^(p + 1)
  double ahnsBeta = 0;
  int ahnsP = 0;
  PackedPaths pathsCo, pathsSe;
  PositiveOrder positives = PositiveOrder::Interactions;  // which positives an epoch draws (kernels/bpr.hpp)

  bool scores() const { return kind == SamplerKind::Dynamic || kind == SamplerKind::Ahns || mixes(); }
  bool mixes() const { return kind == SamplerKind::MixGCF || kind == SamplerKind::DTLNS; }
  // Candidates per negative, per sample, and random values per sample.
  size_t candidates() const { return scores() ? size_t(negs) : 1; }
  size_t candidatesPerSample() const { return size_t(k) * candidates(); }
  size_t alphasPerSample(int layers) const { return mixes() ? size_t(k) * size_t(layers + 1) : 0; }
  size_t picksPerSample() const { return kind == SamplerKind::Dynamic && dnsTopK > 1 ? size_t(k) : 0; }
  // One negative per positive, drawn without the model: the per-sample (Hogwild) path can run it.
  bool perSample() const { return !scores() && k == 1; }
};

// The draws of n samples, row-major per sample.
struct NegativeDraws {
  const uint32_t* candidates = nullptr;  // n x k x candidates(); the negatives themselves for rns / pop
  const float* alphas = nullptr;         // n x k x (layers + 1), mixing samplers
  const uint32_t* picks = nullptr;       // n x k ranks in [0, dnsTopK), dns with dnsTopK > 1
};

// A sampler ready for an epoch: its configuration and, for 'pop', the popularity table.
class Sampler {
 public:
  Sampler(const SamplerConfig& config, const PositiveSets& train);
  const SamplerConfig& config() const { return config_; }
  const AliasTable* popularity() const { return config_.kind == SamplerKind::Popularity ? &popularity_ : nullptr; }
  // Draws one sample's candidates, mixing weights and picks (sizes per SamplerConfig);
  // false, with nothing drawn, when u's positives cover every item.
  bool drawSample(const PositiveSets& train, uint32_t u, int layers, Rng& rng, uint32_t* candidates, float* alphas,
                  uint32_t* picks) const;

 private:
  SamplerConfig config_;
  AliasTable popularity_;
};

// The samples of one batch that have negatives, with their draws; skipped counts the others.
struct BatchDraws {
  std::vector<uint32_t> users, pos, candidates, picks;
  std::vector<float> alphas;
  std::vector<float> weights;  // the samples' loss weights, when the plan has them
  uint64_t skipped = 0;  // summed over draw() calls

  size_t size() const { return users.size(); }
  NegativeDraws view() const { return NegativeDraws{candidates.data(), alphas.data(), picks.data()}; }
  const float* weightsOrNull() const { return weights.empty() ? nullptr : weights.data(); }
  // Negatives are drawn outside `nonNegatives` (the positives, plus any items excluded from negatives).
  void draw(const EpochPlan& plan, const PositiveSets& nonNegatives, const Sampler& sampler, int layers, size_t b,
            int threads);

 private:
  std::vector<uint32_t> scratchCandidates_, scratchPicks_;
  std::vector<float> scratchAlphas_;
  std::vector<uint8_t> kept_;
};

// The negatives the scoring samplers (dns, ahns, mixgcf, dtlns) choose for n samples.
struct MinedNegatives {
  std::vector<uint32_t> choice;     // n x k x (L+1): index of the chosen candidate in its group
  std::vector<uint32_t> items;      // n x k x (L+1): the chosen item (dns: the same for every layer)
  std::vector<float> pooled;        // n x k x dim: the negative's final embedding (mean over layers)
  std::vector<float> layerRows;     // n x k x (L+1) x dim: its per-layer (mixed) rows, when asked for
};

// Chooses among the candidates with the embeddings of the last prop.forward(),
// which must have had every user, positive and candidate among its targets
// (the sampler's rule, kernels/negative_rule.cpp).
void mineNegatives(const SamplerConfig& config, const Propagation& prop, const uint32_t* users, const uint32_t* pos,
                   const NegativeDraws& draws, size_t n, int threads, bool keepLayerRows, MinedNegatives& out);

// An epoch's samples exactly as trainEpoch draws them for this seed and batch, the
// negatives drawn outside nonNegatives (rns / pop: neg holds k negatives per sample;
// the scoring samplers: their k x negs candidates).
struct SampledTriples {
  std::vector<uint32_t> users, pos, neg;
  uint64_t skipped = 0;
};
SampledTriples sampleEpochNegatives(const PositiveSets& train, const PositiveSets& nonNegatives, const Sampler& sampler,
                                    uint64_t seed, size_t batch, int threads);

}  // namespace dtlns
