// dtlns: mixgcf, but the per-layer scores are min-max normalised over the candidates,
// (s - min) / (max - min + 1e-8), and alphaCo sim_co(i, j) + alphaSe sim_se(i, j) is
// added before the argmax; sim = LCP(path_i, path_j) / min(len_i, len_j).
#include <algorithm>

#include "kernels/negative_rule.hpp"
#include "kernels/prefix.hpp"

namespace dtlns {
namespace {

class DtlnsRule : public MixingRule {
 public:
  explicit DtlnsRule(const SamplerConfig& config)
      : MixingRule(config), co_(config.pathsCo), se_(config.pathsSe) {}

 protected:
  void groupBonus(uint32_t positive, const uint32_t* candidates, size_t count, float* bonus) const override {
    for (size_t c = 0; c < count; ++c)
      bonus[c] = config_.alphaCo * co_(positive, candidates[c]) + config_.alphaSe * se_(positive, candidates[c]);
  }
  void adjustScores(float* scores, size_t count, const float* bonus) const override {
    const float lo = *std::min_element(scores, scores + count);
    const float hi = *std::max_element(scores, scores + count);
    const float span = hi - lo + 1e-8f;
    for (size_t c = 0; c < count; ++c) scores[c] = (scores[c] - lo) / span + bonus[c];
  }

 private:
  // 64-bit path keys: the int32 rows cost a loop and a cache miss a pair.
  PathSimilarity co_, se_;
};

}  // namespace

std::unique_ptr<NegativeRule> makeDtlnsRule(const SamplerConfig& config) { return std::make_unique<DtlnsRule>(config); }

}  // namespace dtlns
