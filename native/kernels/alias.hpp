// Walker's alias method (Vose's construction): O(1) draws from a fixed
// discrete distribution over [0, n), here item popularity^beta for the 'pop'
// sampler.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/rng.hpp"

namespace dtlns {

class AliasTable {
 public:
  AliasTable() = default;
  // weights: n >= 1 non-negative finite values with a positive sum (checked by the caller).
  explicit AliasTable(const std::vector<double>& weights) : weights_(weights) {
    const size_t n = weights.size();
    double total = 0;
    for (double w : weights) total += w;
    total_ = total;
    accept_.assign(n, 1.0);
    alias_.resize(n);
    std::vector<uint32_t> small, large;
    std::vector<double> scaled(n);
    for (size_t k = 0; k < n; ++k) {
      alias_[k] = uint32_t(k);
      scaled[k] = weights[k] * double(n) / total;
      (scaled[k] < 1.0 ? small : large).push_back(uint32_t(k));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      accept_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Leftovers are 1 up to rounding: they keep accept 1 (always themselves).
  }

  uint32_t draw(Rng& rng) const {
    const uint32_t k = rng.below(uint32_t(accept_.size()));
    return rng.uniform64() < accept_[k] ? k : alias_[k];
  }
  double weight(uint32_t k) const { return weights_[k]; }
  double total() const { return total_; }
  size_t size() const { return accept_.size(); }

 private:
  std::vector<double> weights_, accept_;
  std::vector<uint32_t> alias_;
  double total_ = 0;
};

}  // namespace dtlns
