#include "kernels/deferred_adam.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

constexpr double kSeriesTolerance = 0x1p-30;  // the series' remainder, relative to F
constexpr double kWindowTolerance = 0x1p-36;  // the dropped steps, relative to the first
constexpr size_t kMaxWindow = 1024;
constexpr size_t kPrefetchRows = 8;
constexpr size_t kMixedChunk = 64;  // elements of a mixed row handled at once

// Each series converges at least this fast where it is used: ratio^kTerms = kSeriesTolerance.
const double kRatio = std::pow(kSeriesTolerance, 1.0 / CatchUpSeries::kTerms);

// The zero-gradient steps that matter: step i of a gap moves p by at most
// rho^(i-1) sqrt(i) times step 1 (rho = b1 / sqrt(b2)), so steps past K, with
// rho^K sqrt(K+1) / (1-rho)^2 below the tolerance, are dropped. 0: no such K.
size_t windowFor(const OptimizerConfig& c) {
  const double b1 = c.beta1, b2 = c.beta2;
  if (!(b2 > 0)) return 0;
  const double rho = b1 / std::sqrt(b2);
  if (!(rho < 1)) return 0;
  for (size_t k = 1; k <= kMaxWindow; ++k)
    if (std::pow(rho, double(k)) * std::sqrt(double(k + 1)) / ((1 - rho) * (1 - rho)) <= kWindowTolerance) return k;
  return 0;
}

// The b_i of a whole window, once bc2 ~ 1, spread by (1 - b2^(K/2)) / (1 + b2^(K/2)) around their centre.
double settledSpread(const OptimizerConfig& c, size_t window) {
  const double low = std::pow(double(c.beta2), 0.5 * double(window - 1));
  return (1 - low) / (1 + low);
}

// A row's finiteness witness: the OR of nonFinite(x) over its new values, 0
// exactly when all are finite. x * 0 is +-0 for a finite x and NaN otherwise;
// integer ORs combine the vector lanes in a few steps, where the float sum
// kept before took one dependent add per lane on every row.
inline uint32_t nonFinite(float x) {
  const float zero = x * 0.f;
  uint32_t bits;
  std::memcpy(&bits, &zero, sizeof bits);
  return bits & 0x7fffffffu;
}

// c[0] + c[1] x + ... + c[kN-1] x^(kN-1), unrolled so that rows vectorize.
template <int kN>
inline float polynomial(const float* c, float x) {
  float sum = c[kN - 1];
#pragma GCC unroll 16
  for (int n = kN - 2; n >= 0; --n) sum = sum * x + c[n];
  return sum;
}

// One row's catch-up reads its p, m, v and writes their values at the target
// step to `out`: the row itself (in place) or a copy.
template <int kN>
inline uint32_t zSeriesRow(const float* p, const float* m, const float* v, const RowView& out, size_t dim,
                        const CatchUpSeries& s, float eps, float mDecay, float vDecay) {
  const float c = s.center;
  float e[kN];
  std::copy(s.e, s.e + kN, e);
  float* op = out.p;  // locals: stores through them cannot change where they point
  float* om = out.m;
  float* ov = out.v;
  uint32_t witness = 0;
#pragma omp simd reduction(| : witness)
  for (size_t d = 0; d < dim; ++d) {
    const float w = c * std::sqrt(v[d]);
    const float rcp = 1.f / (eps + w);
    const float z = w * rcp;
    const float pd = p[d] - m[d] * rcp * polynomial<kN>(e, z);
    om[d] = m[d] * mDecay;
    ov[d] = v[d] * vDecay;
    op[d] = pd;
    witness |= nonFinite(pd);
  }
  return witness;
}

inline uint32_t zSeriesRow(const float* p, const float* m, const float* v, const RowView& out, size_t dim,
                        const CatchUpSeries& s, float eps, float mDecay, float vDecay) {
  switch (s.zTerms / 4) {
    case 1: return zSeriesRow<4>(p, m, v, out, dim, s, eps, mDecay, vDecay);
    case 2: return zSeriesRow<8>(p, m, v, out, dim, s, eps, mDecay, vDecay);
    case 3: return zSeriesRow<12>(p, m, v, out, dim, s, eps, mDecay, vDecay);
    default: return zSeriesRow<16>(p, m, v, out, dim, s, eps, mDecay, vDecay);
  }
}

inline uint32_t xSeriesRow(const float* p, const float* m, const float* v, const RowView& out, size_t dim,
                        const CatchUpSeries& s, float eps, float mDecay, float vDecay) {
  constexpr int kN = CatchUpSeries::kTerms;
  float h[kN];
  std::copy(s.h, s.h + kN, h);
  float* op = out.p;
  float* om = out.m;
  float* ov = out.v;
  uint32_t witness = 0;
#pragma omp simd reduction(| : witness)
  for (size_t d = 0; d < dim; ++d) {
    const float inv = 1.f / std::sqrt(v[d]);
    const float y = eps * inv;
    const float pd = p[d] - m[d] * inv * polynomial<kN>(h, y);
    om[d] = m[d] * mDecay;
    ov[d] = v[d] * vDecay;
    op[d] = pd;
    witness |= nonFinite(pd);
  }
  return witness;
}

// Adam on a row (p, m, v) with the gradient g + w p (an L2 term), read from
// `in` and written to `out` (the same row, or the model's row for a copy).
inline uint32_t adamRowWithL2(const RowView& in, const RowView& out, const float* g, float w, size_t dim,
                              const AdamStep& a) {
  const float* p = in.p;
  const float* m = in.m;
  const float* v = in.v;
  float* op = out.p;  // locals: stores through them cannot change where they point
  float* om = out.m;
  float* ov = out.v;
  uint32_t witness = 0;
#pragma omp simd reduction(| : witness)
  for (size_t d = 0; d < dim; ++d) {
    const float e = p[d];
    float md = m[d], vd = v[d];
    const float pd = adamCoordinate(e, md, vd, g[d] + w * e, a);
    om[d] = md;
    ov[d] = vd;
    op[d] = pd;
    witness |= nonFinite(pd);
  }
  return witness;
}

}  // namespace

bool DeferredAdam::supports(const OptimizerConfig& c) {
  const size_t window = windowFor(c);
  return window > 0 && settledSpread(c, window) <= kRatio;
}

DeferredAdam::DeferredAdam(const NodeParams& params, const OptimizerConfig& c, uint64_t step)
    : params_(params), c_(c), step0_(step), window_(windowFor(c)), last_(params.nodes(), 0) {
  if (!supports(c)) throw std::logic_error("DeferredAdam: unsupported betas (check DeferredAdam::supports first)");
  const double b1 = c.beta1, b2 = c.beta2;
  invBc1_.push_back(0);  // t = step0_ is never a step of a gap
  invSqrtBc2_.push_back(0);
  for (size_t i = 0; i <= window_; ++i) {
    beta1Pow_.push_back(std::pow(b1, double(i)));
    beta2HalfPow_.push_back(std::pow(b2, 0.5 * double(i)));
  }
  for (int n = 0; n < kTerms; ++n) {
    binomial_[n][0] = 1;
    for (int j = 1; j <= n; ++j) binomial_[n][j] = binomial_[n][j - 1] * double(n - j + 1) / double(j);
  }
  for (int j = 0; j < kTerms; ++j) ratioPos_[j] = b1 * std::pow(b2, 0.5 * j);
  for (int j = 0; j <= kTerms; ++j) ratioNeg_[j] = b1 * std::pow(b2, -0.5 * j);
  mDecay_.push_back(1.f);
  vDecay_.push_back(1.f);
  recent_.resize(window_ + 1);
}

void DeferredAdam::advance() {
  ++now_;
  const double b1 = c_.beta1, b2 = c_.beta2, t = double(step0_ + now_);
  invBc1_.push_back(1.0 / (1.0 - std::pow(b1, t)));
  invSqrtBc2_.push_back(1.0 / std::sqrt(1.0 - std::pow(b2, t)));
  mDecay_.push_back(float(std::pow(b1, double(now_))));
  vDecay_.push_back(float(std::pow(b2, double(now_))));
  // S_j(now - g, now) = sum_{i=1..g} u_j(now - g + i) r_j^i with u_j(t) = lr / (bc1_t sqrt(bc2_t)^j)
  // and r_j = b1 b2^(j/2), so S_j(g) = r_j (u_j(now - g + 1) + S_j(g - 1)).
  double sPos[kTerms] = {}, sNeg[kTerms + 1] = {};
  const uint32_t gaps = uint32_t(std::min<size_t>(window_, now_));
  for (uint32_t g = 1; g <= gaps; ++g) {
    const size_t i = now_ - g + 1;
    const double base = double(c_.lr) * invBc1_[i], q = invSqrtBc2_[i];
    double u = base;
    for (int j = 0; j < kTerms; ++j, u *= q) sPos[j] = ratioPos_[j] * (u + sPos[j]);
    u = base / q;
    for (int j = 1; j <= kTerms; ++j, u /= q) sNeg[j] = ratioNeg_[j] * (u + sNeg[j]);
    recent_[g] = deriveSeries(g, sPos, sNeg);
  }
  if (now_ >= window_) history_.push_back(recent_[window_]);  // at index now_ - window_
}

CatchUpSeries DeferredAdam::deriveSeries(uint32_t gap, const double* sPos, const double* sNeg) const {
  const double eps = c_.eps;
  // b_i falls with i: b_1 is the largest, b_gap the smallest.
  const double bHigh = beta2HalfPow_[1] * invSqrtBc2_[now_ - gap + 1];
  const double bLow = beta2HalfPow_[gap] * invSqrtBc2_[now_];
  const double center = 0.5 * (bHigh + bLow);
  const double spread = (bHigh - bLow) / (bHigh + bLow);  // max |1 - b_i / c|
  CatchUpSeries s{};
  s.center = float(center);
  if (spread <= kRatio) {
    s.vZMax = std::numeric_limits<float>::infinity();
    const int needed = spread > 0 ? int(std::ceil(std::log(kSeriesTolerance) / std::log(spread))) : 1;
    s.zTerms = std::clamp((needed + 3) / 4 * 4, 4, kTerms);  // a multiple of 4: fewer row kernels
  } else {
    // The remainder shrinks like (spread z)^n: keep z <= kRatio / spread.
    const double zMax = kRatio / spread;
    const double sigma = eps * zMax / (center * (1 - zMax));
    s.vZMax = float(sigma * sigma);
    s.zTerms = kTerms;
  }
  // E_n = sum_i a_i (1 - b_i/c)^n = sum_j C(n, j) (-1/c)^j S_j.
  double scaled[kTerms];
  double factor = 1;
  for (int j = 0; j < kTerms; ++j, factor *= -1 / center) scaled[j] = factor * sPos[j];
  for (int n = 0; n < s.zTerms; ++n) {
    double e = 0;
    for (int j = 0; j <= n; ++j) e += binomial_[n][j] * scaled[j];
    s.e[n] = float(e);
  }
  for (int n = 0; n < kTerms; ++n) s.h[n] = float(n % 2 ? -sNeg[n + 1] : sNeg[n + 1]);
  // The 1/x-series shrinks like 1 / (b_gap x) per term: keep that <= kRatio.
  const double sigma = eps / (kRatio * bLow);
  s.vXMin = float(sigma * sigma);
  return s;
}

double DeferredAdam::stepwiseDelta(uint32_t last, uint32_t gap, float m, float v) const {
  const double sigma = std::sqrt(double(v)), eps = c_.eps;
  const uint32_t steps = uint32_t(std::min<size_t>(gap, window_));
  double sum = 0;
  for (uint32_t i = 1; i <= steps; ++i) {
    const size_t t = size_t(last) + i;
    sum += beta1Pow_[i] * invBc1_[t] / (beta2HalfPow_[i] * invSqrtBc2_[t] * sigma + eps);
  }
  return double(c_.lr) * double(m) * sum;
}

// A row whose elements need different series: both series in vector form,
// the uncovered elements step by step.
uint32_t DeferredAdam::mixedRow(const float* p, const float* m, const float* v, const RowView& out,
                             const CatchUpSeries& s, uint32_t last, uint32_t gap) const {
  constexpr int terms = kTerms;
  const float eps = c_.eps, c = s.center, vZMax = s.vZMax, vXMin = s.vXMin;
  const float mDecay = mDecay_[gap], vDecay = vDecay_[gap];
  float* op = out.p;
  float* om = out.m;
  float* ov = out.v;
  uint32_t witness = 0;
  float delta[kMixedChunk];
  for (size_t begin = 0; begin < params_.dim; begin += kMixedChunk) {
    const size_t n = std::min(kMixedChunk, params_.dim - begin);
    const float* pc = p + begin;
    const float* mc = m + begin;
    const float* vc = v + begin;
#pragma omp simd
    for (size_t d = 0; d < n; ++d) {
      const float sigma = std::sqrt(vc[d]);
      const float w = c * sigma;
      const float rcp = 1.f / (eps + w);
      const float z = w * rcp;
      const float inv = 1.f / sigma;
      const float y = eps * inv;
      delta[d] = vc[d] <= vZMax ? mc[d] * rcp * polynomial<terms>(s.e, z) : mc[d] * inv * polynomial<terms>(s.h, y);
    }
    for (size_t d = 0; d < n; ++d)
      if (vc[d] > vZMax && vc[d] < vXMin) delta[d] = float(stepwiseDelta(last, gap, mc[d], vc[d]));
#pragma omp simd reduction(| : witness)
    for (size_t d = 0; d < n; ++d) {
      const float pd = pc[d] - delta[d];
      om[begin + d] = mc[d] * mDecay;
      ov[begin + d] = vc[d] * vDecay;
      op[begin + d] = pd;
      witness |= nonFinite(pd);
    }
  }
  return witness;
}

RowView DeferredAdam::row(uint32_t r) const {
  const ParamTable& t = params_.table(r);
  const size_t o = params_.offset(r);
  return RowView{t.p + o, t.m + o, t.v + o};
}

uint32_t DeferredAdam::catchUpRow(uint32_t r, const RowView& out) const {
  const uint32_t last = last_[r];
  const uint32_t gap = now_ - last;
  const RowView in = row(r);
  const size_t dim = params_.dim;
  if (gap == 0) {
    if (out.p != in.p) {
      std::copy(in.p, in.p + dim, out.p);
      std::copy(in.m, in.m + dim, out.m);
      std::copy(in.v, in.v + dim, out.v);
    }
    return 0;
  }
  const CatchUpSeries& s = gap <= window_ ? recent_[gap] : history_[last];
  const float eps = c_.eps, mDecay = mDecay_[gap], vDecay = vDecay_[gap];
  if (std::isinf(s.vZMax)) return zSeriesRow(in.p, in.m, in.v, out, dim, s, eps, mDecay, vDecay);
  float vMin = std::numeric_limits<float>::infinity(), vMax = 0.f;
#pragma omp simd reduction(min : vMin) reduction(max : vMax)
  for (size_t d = 0; d < dim; ++d) {
    vMin = std::min(vMin, in.v[d]);
    vMax = std::max(vMax, in.v[d]);
  }
  if (vMax <= s.vZMax) return zSeriesRow(in.p, in.m, in.v, out, dim, s, eps, mDecay, vDecay);
  if (vMin >= s.vXMin) return xSeriesRow(in.p, in.m, in.v, out, dim, s, eps, mDecay, vDecay);
  return mixedRow(in.p, in.m, in.v, out, s, last, gap);
}

// f(k, row) -> witness for the listed rows (all nodes when rows is null), in
// parallel; prefetch(k) runs a few rows ahead of f.
template <class Prefetch, class F>
bool DeferredAdam::forRows(const std::vector<uint32_t>* rows, int threads, Prefetch&& prefetch, F&& f) {
  const int64_t n = rows ? int64_t(rows->size()) : int64_t(params_.nodes());
  std::atomic<bool> finite{true};
  parallelFor(threadsFor(threads, 30.0 * double(n) * double(params_.dim)), n, [&](int64_t begin, int64_t end, int) {
    uint32_t witness = 0;
    for (int64_t k = begin; k < std::min(end, begin + int64_t(kPrefetchRows)); ++k) prefetch(size_t(k));
    for (int64_t k = begin; k < end; ++k) {
      if (k + int64_t(kPrefetchRows) < end) prefetch(size_t(k) + kPrefetchRows);
      witness |= f(size_t(k), rows ? (*rows)[size_t(k)] : uint32_t(k));
    }
    if (witness != 0) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

void DeferredAdam::prefetchParams(uint32_t r, bool forWrite) const {
  const RowView x = row(r);
  prefetchRow(x.p, params_.dim, forWrite);
  prefetchRow(x.m, params_.dim, forWrite);
  prefetchRow(x.v, params_.dim, forWrite);
  prefetchWord(&last_[r]);
}

bool DeferredAdam::catchUp(const std::vector<uint32_t>& rows, int threads) {
  return forRows(
      &rows, threads, [&](size_t k) { prefetchParams(rows[k], false); },
      [&](size_t, uint32_t r) {
        const uint32_t witness = catchUpRow(r, row(r));
        last_[r] = now_;
        return witness;
      });
}

bool DeferredAdam::readCaughtUp(const std::vector<uint32_t>& rows, const RowView& out, int threads) {
  const size_t dim = params_.dim;
  return forRows(
      &rows, threads, [&](size_t k) { prefetchParams(rows[k], false); },
      [&](size_t k, uint32_t r) {
        return catchUpRow(r, RowView{out.p + k * dim, out.m + k * dim, out.v + k * dim});
      });
}

bool DeferredAdam::update(const std::vector<uint32_t>& rows, const float* const* grad, const float* l2Weights,
                          const RowView* caughtUp, int threads) {
  bool caughtUpFinite = true;
  if (!caughtUp) {
    // Rows read before the step were caught up then: usually a scan of last_.
    for (uint32_t r : rows) {
      if (last_[r] != now_) {
        caughtUpFinite = catchUp(rows, threads);
        break;
      }
    }
  }
  const AdamStep a = beginStep();
  const size_t dim = params_.dim;
  const bool updatedFinite = forRows(
      &rows, threads,
      [&](size_t k) {
        prefetchParams(rows[k], caughtUp != nullptr);
        prefetchRow(grad[k], dim, false);
      },
      [&](size_t k, uint32_t r) {
        const float w = l2Weights ? l2Weights[k] : 0.f;
        if (!caughtUp) return updateRow(r, row(r), grad[k], w, a);
        return updateRow(r, RowView{caughtUp->p + k * dim, caughtUp->m + k * dim, caughtUp->v + k * dim}, grad[k], w, a);
      });
  const bool restartFinite = endStep(threads);
  return caughtUpFinite && updatedFinite && restartFinite;
}

AdamStep DeferredAdam::beginStep() {
  advance();
  return AdamStep(c_, step());
}

// From the caught-up copy (or the row itself) straight over the row: the row
// is written once, and read only when it is its own copy.
uint32_t DeferredAdam::updateRow(uint32_t r, const RowView& caughtUp, const float* grad, float l2Weight,
                                 const AdamStep& a) {
  last_[r] = now_;
  return adamRowWithL2(caughtUp, row(r), grad, l2Weight, params_.dim, a);
}

bool DeferredAdam::restart(int threads) {
  const bool finite = flush(threads);
  step0_ += now_;
  now_ = 0;
  std::fill(last_.begin(), last_.end(), 0u);
  invBc1_.resize(1);
  invSqrtBc2_.resize(1);
  mDecay_.resize(1);
  vDecay_.resize(1);
  history_.clear();
  return finite;
}

bool DeferredAdam::flush(int threads) {
  return forRows(
      nullptr, threads, [](size_t) {},
      [&](size_t, uint32_t r) {
        const uint32_t witness = catchUpRow(r, row(r));
        last_[r] = now_;
        return witness;
      });
}

}  // namespace dtlns
