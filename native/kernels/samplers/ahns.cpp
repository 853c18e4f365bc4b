// ahns (adaptive hardness negative sampling, Lai et al., AAAI 2024): negs uniform
// candidates scored s_uj = <F_u, F_j>; the chosen one is the candidate whose score is
// nearest the hardness target beta (s_ui + alpha)^(p + 1), which follows the positive's
// score s_ui = <F_u, F_i>: argmin_j |s_uj - target|, ties to the lower index. The
// target and gaps are taken in double, as the float64 reference (src/sampling/reference.ts) takes them.
#include <cmath>

#include "kernels/dot.hpp"
#include "kernels/negative_rule.hpp"

namespace dtlns {
namespace {

// The score the negative should have for a positive scored positiveScore.
double ahnsTarget(const SamplerConfig& config, float positiveScore) {
  return config.ahnsBeta * std::pow(double(positiveScore) + config.ahnsAlpha, config.ahnsP + 1);
}

class AhnsRule : public ChosenItemRule {
 public:
  using ChosenItemRule::ChosenItemRule;

 protected:
  uint32_t pick(const float* scores, size_t count, const float* fu, const float* fi, size_t dim, uint32_t,
                std::vector<uint32_t>&) const override {
    const double target = ahnsTarget(config_, dot(fu, fi, dim));
    uint32_t best = 0;
    double nearest = std::fabs(double(scores[0]) - target);
    for (size_t c = 1; c < count; ++c) {
      const double gap = std::fabs(double(scores[c]) - target);
      if (gap < nearest) {
        nearest = gap;
        best = uint32_t(c);
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<NegativeRule> makeAhnsRule(const SamplerConfig& config) { return std::make_unique<AhnsRule>(config); }

}  // namespace dtlns
