// mixgcf: negs uniform candidates; per layer l, positive mixing ẽ^l_j = α_l E^l_i +
// (1 - α_l) E^l_j with α_l ~ U[0, 1) per (sample, layer), then hop mixing: score
// <F_u, ẽ^l_j> and take the argmax per layer (MixingRule). MF is the 0-layer case.
#include "kernels/negative_rule.hpp"

namespace dtlns {

std::unique_ptr<NegativeRule> makeMixGcfRule(const SamplerConfig& config) {
  // The mixing family's rule, with no score adjustment.
  class MixGcfRule : public MixingRule {
   public:
    using MixingRule::MixingRule;
  };
  return std::make_unique<MixGcfRule>(config);
}

}  // namespace dtlns
