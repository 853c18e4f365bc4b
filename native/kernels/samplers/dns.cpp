// dns: M = negs uniform candidates scored <F_u, F_j>; the best one, or a random one of
// the dnsTopK best (the DTL-NS release's 'dns_mn').
#include <algorithm>

#include "kernels/negative_rule.hpp"

namespace dtlns {
namespace {

// The candidate of rank `rank` (0 = best) by score, ties to the lower index.
uint32_t rankedCandidate(const float* scores, size_t count, uint32_t rank, std::vector<uint32_t>& order) {
  order.resize(count);
  for (size_t c = 0; c < count; ++c) order[c] = uint32_t(c);
  std::partial_sort(order.begin(), order.begin() + rank + 1, order.end(), [&](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  return order[rank];
}

class DnsRule : public ChosenItemRule {
 public:
  using ChosenItemRule::ChosenItemRule;

 protected:
  uint32_t pick(const float* scores, size_t count, const float*, const float*, size_t, uint32_t rank,
                std::vector<uint32_t>& order) const override {
    return config_.dnsTopK > 1 ? rankedCandidate(scores, count, rank, order) : argmax(scores, count);
  }
};

}  // namespace

std::unique_ptr<NegativeRule> makeDnsRule(const SamplerConfig& config) { return std::make_unique<DnsRule>(config); }

}  // namespace dtlns
