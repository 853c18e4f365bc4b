// Dense Adam (torch.optim.Adam: every row moves at every step, rows without a
// gradient too) at a cost proportional to the rows that HAVE a gradient.
//
// A row whose gradient is zero from step s+1 to T (k = T - s steps) ends at
//   m_T = b1^k m_s,  v_T = b2^k v_s,  p_T = p_s - (m_s / eps) F(x),
//   F(x) = sum_{i=1..k} a_i / (b_i x + 1),  x = sqrt(v_s) / eps,
//   a_i = lr b1^i / bc1_{s+i},  b_i = b2^(i/2) / sqrt(bc2_{s+i}),  bc_t = 1 - b^t.
// So rows are left behind while they have no gradient and caught up in closed
// form when they are next read (catchUp, readCaughtUp), updated (update) or
// handed back (flush). F is evaluated per element from coefficients that
// every row with the same (s, T) shares:
//  - z-series: c = (b_1 + b_k)/2, z = cx/(1+cx):
//      F = (1-z) sum_n z^n E_n,  E_n = sum_i a_i (1 - b_i/c)^n;
//    it converges for every x at the rate |1 - b_i/c|, i.e. everywhere once
//    bc2 has settled (after the first ~1000 steps with the default betas);
//  - 1/x-series: F = sum_n (-1)^n x^-(n+1) sum_i a_i b_i^-(n+1), for large x;
//  - where neither is accurate (early steps with sqrt(v) near eps) the steps
//    one by one, in double.
// Steps more than a window (310 with the default betas) after s move p by less
// than 2^-36 of the first and are dropped; the series stop where the rest is
// below 2^-30 of F. Both are far below float32 rounding of p, so the results
// agree with denseAdam to float rounding: p is rounded once per catch-up
// instead of once per step, m and v once instead of once per step.
// The sums S_j(s, T) = sum_i a_i b_i^j behind both series follow, for every
// s in the window at once, from one backward recurrence per step.
//
// Every row's catch-up reads only that row and the shared coefficients, so
// results do not depend on the thread count.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/adam.hpp"

namespace dtlns {

// The per-element coefficients of the catch-up from one step s to one step T.
struct CatchUpSeries {
  static constexpr int kTerms = 16;  // terms of each series
  float center;                      // c
  float vZMax;                       // the z-series holds for v <= vZMax (infinity: for all v)
  float vXMin;                       // the 1/x-series holds for v >= vXMin
  int zTerms;                        // z-series terms needed, <= kTerms
  float e[kTerms];                   // z-series
  float h[kTerms];                   // 1/x-series, signs included
};

// One row's p, m and v (in the model, or in a compact copy).
struct RowView {
  float* p;
  float* m;
  float* v;
};

class DeferredAdam {
  // After this many steps every row is caught up and the per-step tables start
  // over: they stay small however many steps one call takes (batch 1).
  static constexpr uint32_t kRestartSteps = 8192;

 public:
  // False when the betas make the window long or the z-series slow for good
  // (with beta1 = 0.9: beta2 below 0.9965, or beta1 >= sqrt(beta2)): then use denseAdam.
  static bool supports(const OptimizerConfig& c);

  // Every row of `params` is current at Adam step `step`.
  DeferredAdam(const NodeParams& params, const OptimizerConfig& c, uint64_t step);

  // The Adam step every row is brought to by catchUp.
  uint64_t step() const { return step0_ + now_; }

  // Applies the deferred zero-gradient steps of `rows` (distinct node ids), so
  // their p, m and v are those of dense Adam at step(). False when a caught-up
  // parameter is not finite.
  bool catchUp(const std::vector<uint32_t>& rows, int threads);

  // Writes p, m, v of rows[k] at step() to row k of the compact tables `out`
  // (rows x dim each) without changing the model: then update(..., &out)
  // writes each row once and never reads it again. False when a caught-up
  // parameter is not finite.
  bool readCaughtUp(const std::vector<uint32_t>& rows, const RowView& out, int threads);

  // Adam step step() + 1: rows[k] (distinct) takes the gradient grad[k] plus
  // l2Weights[k] (0 when null) times its parameters at step(), every other
  // row a zero gradient (deferred). caughtUp: the compact tables readCaughtUp
  // filled for these rows (read only: the new rows go straight to the model), or null
  // (then rows not caught up are caught up in place first).
  bool update(const std::vector<uint32_t>& rows, const float* const* grad, const float* l2Weights,
              const RowView* caughtUp, int threads);

  // Catches every row up to step().
  bool flush(int threads);

  // The same work one row at a time, for a caller on one thread that orders
  // and prefetches the rows itself and interleaves them with its own work.
  // Non-zero return: a new parameter is not finite.
  // readCaughtUp for one row; last_ is unchanged.
  uint32_t readCaughtUpRow(uint32_t r, const RowView& out) const { return catchUpRow(r, out); }
  // update() as beginStep(), updateRow() once for each row with a gradient, endStep().
  AdamStep beginStep();
  uint32_t updateRow(uint32_t r, const RowView& caughtUp, const float* grad, float l2Weight, const AdamStep& a);
  bool endStep(int threads) { return now_ < kRestartSteps || restart(threads); }
  // Prefetches row r's p, m, v (to read, or to write over).
  void prefetchParams(uint32_t r, bool forWrite) const;
  // Row r's p, m, v in the model, and whether they are those at step() (no catch-up due).
  RowView row(uint32_t r) const;
  bool isCurrent(uint32_t r) const { return last_[r] == now_; }

 private:
  static constexpr int kTerms = CatchUpSeries::kTerms;

  NodeParams params_;
  OptimizerConfig c_;
  uint64_t step0_;
  uint32_t now_ = 0;  // step() - step0_
  size_t window_;
  std::vector<uint32_t> last_;  // per node: the step (- step0_) it is current at
  // Indexed by t - step0_: 1 / bc1_t and 1 / sqrt(bc2_t).
  std::vector<double> invBc1_, invSqrtBc2_;
  // Indexed by i <= window: b1^i and b2^(i/2).
  std::vector<double> beta1Pow_, beta2HalfPow_;
  // The ratios of the recurrence of S_j: b1 b2^(j/2) for j = 0..kTerms-1 and j = -1..-kTerms.
  double ratioPos_[kTerms], ratioNeg_[kTerms + 1];
  double binomial_[kTerms][kTerms];  // C(n, j), j <= n
  // Indexed by a gap g <= now_: b1^g and b2^g.
  std::vector<float> mDecay_, vDecay_;
  // recent_[g]: the series of (now_ - g, now_) for g in [1, window];
  // history_[s]: the series of (s, s + window) (- step0_), for longer gaps.
  std::vector<CatchUpSeries> recent_, history_;

  void advance();
  // Catches every row up and makes step() the new origin of the tables.
  bool restart(int threads);
  CatchUpSeries deriveSeries(uint32_t gap, const double* sPos, const double* sNeg) const;
  // Writes row r's p, m, v at step() to `out` (the row itself, or a copy); last_ is the caller's.
  uint32_t catchUpRow(uint32_t r, const RowView& out) const;
  uint32_t mixedRow(const float* p, const float* m, const float* v, const RowView& out, const CatchUpSeries& s,
                 uint32_t last, uint32_t gap) const;
  double stepwiseDelta(uint32_t last, uint32_t gap, float m, float v) const;
  template <class Prefetch, class F>
  bool forRows(const std::vector<uint32_t>* rows, int threads, Prefetch&& prefetch, F&& f);
};

}  // namespace dtlns
