#include "kernels/spectral.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/errors.hpp"
#include "kernels/parallel.hpp"
#include "kernels/parallel_dynamic.hpp"
#include "kernels/rng.hpp"

namespace dtlns {
namespace {

constexpr int64_t kItemChunk = 256;

// Keeps the k entries with the largest value (ties: the lower column).
void keepTop(std::vector<std::pair<uint32_t, float>>& row, uint32_t k) {
  if (k == 0 || row.size() <= k) return;
  auto better = [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); };
  std::nth_element(row.begin(), row.begin() + k, row.end(), better);
  row.resize(k);
}

// Union of each row with the transposed rows: (i,j) kept when either row has it.
JaccardGraph symmetriseByUnion(const JaccardGraph& g, size_t n) {
  std::vector<uint32_t> inPtr(n + 1, 0);
  for (uint32_t j : g.indices) ++inPtr[j + 1];
  for (size_t i = 0; i < n; ++i) inPtr[i + 1] += inPtr[i];
  std::vector<uint32_t> inIdx(g.indices.size());
  std::vector<float> inVal(g.indices.size());
  std::vector<uint32_t> fill(inPtr.begin(), inPtr.end() - 1);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t k = g.indptr[i]; k < g.indptr[i + 1]; ++k) {
      const uint32_t at = fill[g.indices[k]]++;
      inIdx[at] = uint32_t(i);
      inVal[at] = g.values[k];
    }
  JaccardGraph out;
  out.indptr.assign(n + 1, 0);
  out.indices.reserve(2 * g.indices.size());
  out.values.reserve(2 * g.indices.size());
  for (size_t i = 0; i < n; ++i) {
    uint32_t a = g.indptr[i], b = inPtr[i];
    const uint32_t aEnd = g.indptr[i + 1], bEnd = inPtr[i + 1];
    while (a < aEnd || b < bEnd) {
      if (b == bEnd || (a < aEnd && g.indices[a] < inIdx[b])) {
        out.indices.push_back(g.indices[a]);
        out.values.push_back(g.values[a++]);
      } else if (a == aEnd || inIdx[b] < g.indices[a]) {
        out.indices.push_back(inIdx[b]);
        out.values.push_back(inVal[b++]);
      } else {  // in both: J is symmetric, the values are equal
        out.indices.push_back(g.indices[a]);
        out.values.push_back(g.values[a++]);
        ++b;
      }
    }
    out.indptr[i + 1] = uint32_t(out.indices.size());
  }
  return out;
}

// Row blocks for reductions: sums are combined in block order, so results do
// not depend on the thread count.
constexpr size_t kRowBlock = 4096;

// The deflated normalised adjacency P N P, P = I - v0 v0^T, applied to blocks
// of vectors stored row-major (row i of a block holds p contiguous doubles).
class Operator {
 public:
  Operator(const SparseMatrixView& a, int threads) : a_(a), threads_(threads), scaled_(a.indptr[a.n]), v0_(a.n, 0.0) {
    std::vector<double> invSqrt(a.n, 0.0);
    double norm = 0;
    for (size_t i = 0; i < a.n; ++i) {
      double d = 0;
      for (uint32_t k = a.indptr[i]; k < a.indptr[i + 1]; ++k) d += a.values[k];
      if (d > 0) {
        invSqrt[i] = 1.0 / std::sqrt(d);
        v0_[i] = std::sqrt(d);
        norm += d;
      }
    }
    hasTrivial_ = norm > 0;
    if (hasTrivial_)
      for (double& v : v0_) v /= std::sqrt(norm);
    parallelFor(threads_, int64_t(a.n), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i)
        for (uint32_t k = a.indptr[i]; k < a.indptr[i + 1]; ++k)
          scaled_[k] = float(double(a.values[k]) * (invSqrt[i] * invSqrt[a.indices[k]]));  // symmetric
    });
    const size_t parts = size_t(std::max(1, threads_)) * 8;
    const double perPart = double(a.indptr[a.n] + a.n) / double(parts);
    parts_.push_back(0);
    for (size_t i = 0; i < a.n; ++i)
      if (double(a.indptr[i + 1] + i + 1) >= perPart * double(parts_.size())) parts_.push_back(i + 1);
    if (parts_.back() != a.n) parts_.push_back(a.n);
  }

  size_t n() const { return a_.n; }
  int threads() const { return threads_; }
  const std::vector<double>& trivial() const { return v0_; }
  bool hasTrivial() const { return hasTrivial_; }

  // y (n x p) = N x, x read with row stride xs. Threads take row ranges of
  // equal entry counts (popular items have long rows).
  void multiply(const double* x, size_t xs, double* y, size_t p) const {
    switch (p) {
      case 4: return multiplyRows<4>(x, xs, y, p);
      case 8: return multiplyRows<8>(x, xs, y, p);
      case 16: return multiplyRows<16>(x, xs, y, p);
      default: return multiplyRows<0>(x, xs, y, p);
    }
  }

  // Removes the trivial direction from every column of w (n x p).
  void deflate(double* w, size_t p) const {
    if (!hasTrivial_) return;
    std::vector<double> h = gram(v0_.data(), 1, 1, w, p);
    parallelFor(threads_, int64_t(a_.n), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i)
        for (size_t c = 0; c < p; ++c) w[size_t(i) * p + c] -= v0_[size_t(i)] * h[c];
    });
  }

  // G (mm x p) = V[:, 0:mm]^T W; V has row stride vs, W is n x p.
  std::vector<double> gram(const double* v, size_t vs, size_t mm, const double* w, size_t p) const {
    const size_t n = a_.n;
    const int64_t blocks = int64_t((n + kRowBlock - 1) / kRowBlock);
    std::vector<double> partial(size_t(blocks) * mm * p, 0.0);
    parallelFor(threads_, blocks, [&](int64_t b0, int64_t b1, int) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* acc = partial.data() + size_t(blk) * mm * p;
        const size_t end = std::min(n, size_t(blk + 1) * kRowBlock);
        // Four rows at a time: each accumulator is loaded and stored once per four rows.
        size_t i = size_t(blk) * kRowBlock;
        for (; i + 4 <= end; i += 4) {
          const double *v0 = v + i * vs, *v1 = v0 + vs, *v2 = v1 + vs, *v3 = v2 + vs;
          const double *w0 = w + i * p, *w1 = w0 + p, *w2 = w1 + p, *w3 = w2 + p;
          for (size_t r = 0; r < mm; ++r)
            for (size_t c = 0; c < p; ++c) acc[r * p + c] += (v0[r] * w0[c] + v1[r] * w1[c]) + (v2[r] * w2[c] + v3[r] * w3[c]);
        }
        for (; i < end; ++i)
          for (size_t r = 0; r < mm; ++r)
            for (size_t c = 0; c < p; ++c) acc[r * p + c] += v[i * vs + r] * w[i * p + c];
      }
    });
    std::vector<double> g(mm * p, 0.0);
    for (int64_t blk = 0; blk < blocks; ++blk)
      for (size_t t = 0; t < mm * p; ++t) g[t] += partial[size_t(blk) * mm * p + t];
    return g;
  }

 private:
  // Width P known at compile time (0: use p).
  template <size_t P>
  void multiplyRows(const double* x, size_t xs, double* y, size_t p) const {
    const size_t width = P ? P : p;
    parallelFor(threads_, int64_t(parts_.size() - 1), [&](int64_t b, int64_t e, int) {
      for (size_t i = parts_[size_t(b)]; i < parts_[size_t(e)]; ++i) {
        double acc[P ? P : 1];
        double* yi = P ? acc : y + i * width;
        std::fill(yi, yi + width, 0.0);
        for (uint32_t k = a_.indptr[i]; k < a_.indptr[i + 1]; ++k) {
          const double w = scaled_[k];
          const double* xj = x + size_t(a_.indices[k]) * xs;
          for (size_t c = 0; c < width; ++c) yi[c] += w * xj[c];
        }
        if (P) std::copy(acc, acc + width, y + i * width);
      }
    });
  }

  SparseMatrixView a_;
  int threads_;
  std::vector<size_t> parts_;  // row boundaries of equal-entry parts
  std::vector<float> scaled_;
  std::vector<double> v0_;
  bool hasTrivial_ = false;
};

// Cyclic Jacobi on a symmetric m x m row-major matrix (destroyed). Returns the
// eigenvalues; vectors[r * m + j] is component r of eigenvector j.
std::vector<double> jacobiEigen(std::vector<double>& a, size_t m, std::vector<double>& vectors) {
  vectors.assign(m * m, 0.0);
  for (size_t i = 0; i < m; ++i) vectors[i * m + i] = 1.0;
  double total = 0;
  for (double x : a) total += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < m; ++p)
      for (size_t q = p + 1; q < m; ++q) off += a[p * m + q] * a[p * m + q];
    if (off <= 1e-30 * total || off == 0) break;
    for (size_t p = 0; p < m; ++p) {
      for (size_t q = p + 1; q < m; ++q) {
        const double apq = a[p * m + q];
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < m; ++k) {  // A J
          const double akp = a[k * m + p], akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < m; ++k) {  // J^T A
          const double apk = a[p * m + k], aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        a[p * m + q] = a[q * m + p] = 0.0;
        for (size_t k = 0; k < m; ++k) {  // V J
          const double vkp = vectors[k * m + p], vkq = vectors[k * m + q];
          vectors[k * m + p] = c * vkp - s * vkq;
          vectors[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<double> values(m);
  for (size_t i = 0; i < m; ++i) values[i] = a[i * m + i];
  return values;
}

// Indices of values, largest first (ties: lower index).
std::vector<size_t> descendingOrder(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return values[x] > values[y]; });
  return order;
}

// Writes unit-norm Ritz vectors as float features (n x k) with a canonical
// sign (largest-magnitude component positive) and true residuals ||N y - theta y||.
void finish(const Operator& op, const std::vector<double>& y, size_t k, SpectralResult& out) {
  const size_t n = op.n();
  std::vector<double> yy(y);
  for (size_t j = 0; j < k; ++j) {
    double norm = 0, largest = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = yy[i * k + j];
      norm += v * v;
      if (std::abs(v) > largest) {
        largest = std::abs(v);
        at = i;
      }
    }
    const double scale = (yy[at * k + j] < 0 ? -1.0 : 1.0) / std::sqrt(norm);
    for (size_t i = 0; i < n; ++i) yy[i * k + j] *= scale;
  }
  // N Y, 8 columns at a time through compact copies (the multiply's fast path).
  constexpr size_t kWidth = 8;
  std::vector<double> x(n * kWidth), nx(n * kWidth);
  out.residuals.assign(k, 0.0);
  for (size_t j0 = 0; j0 < k; j0 += kWidth) {
    const size_t width = std::min(kWidth, k - j0);
    std::fill(x.begin(), x.end(), 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t c = 0; c < width; ++c) x[i * kWidth + c] = yy[i * k + j0 + c];
    op.multiply(x.data(), kWidth, nx.data(), kWidth);
    for (size_t i = 0; i < n; ++i)
      for (size_t c = 0; c < width; ++c) {
        const double r = nx[i * kWidth + c] - out.eigenvalues[j0 + c] * x[i * kWidth + c];
        out.residuals[j0 + c] += r * r;
      }
  }
  for (double& r : out.residuals) r = std::sqrt(r);
  out.features.resize(n * k);
  for (size_t t = 0; t < n * k; ++t) out.features[t] = float(yy[t]);
}

// Small graphs: P N P - 3 v0 v0^T densely (the trivial direction sinks to the
// bottom of the spectrum), all eigenpairs by Jacobi.
SpectralResult denseSpectral(const Operator& op, size_t k) {
  const size_t n = op.n();
  std::vector<double> eye(n * n, 0.0), m(n * n);
  for (size_t i = 0; i < n; ++i) eye[i * n + i] = 1.0;
  op.multiply(eye.data(), n, m.data(), n);
  const auto& v0 = op.trivial();
  if (op.hasTrivial()) {
    std::vector<double> nv(n, 0.0);  // N v0
    double q = 0;                    // v0^T N v0
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) nv[i] += m[i * n + j] * v0[j];
      q += v0[i] * nv[i];
    }
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        m[i * n + j] += -v0[i] * nv[j] - nv[i] * v0[j] + (q - 3.0) * v0[i] * v0[j];
  }
  std::vector<double> vectors;
  const std::vector<double> values = jacobiEigen(m, n, vectors);
  const std::vector<size_t> order = descendingOrder(values);
  SpectralResult out;
  out.dense = true;
  out.converged = true;
  out.products = n;
  std::vector<double> y(n * k);
  for (size_t j = 0; j < k; ++j) {
    out.eigenvalues.push_back(values[order[j]]);
    for (size_t i = 0; i < n; ++i) y[i * k + j] = vectors[i * n + order[j]];
  }
  finish(op, y, k, out);
  return out;
}

// Block Krylov (block Lanczos with full reorthogonalisation) with thick
// restarts: the basis grows block by block to `limit` vectors, then restarts
// from the `keep` leading Ritz vectors.
class BlockKrylov {
 public:
  BlockKrylov(const Operator& op, const SpectralOptions& opt, size_t keep, size_t limit)
      : op_(op), n_(op.n()), p_(opt.blockSize), keep_(keep), limit_(limit), stride_(limit + opt.blockSize),
        v_(n_ * stride_, 0.0), t_(stride_ * stride_, 0.0), r_(p_ * p_, 0.0), blockStore_(n_ * p_ + 8), spare_(opt.seed, 1) {}

  SpectralResult run(const SpectralOptions& opt) {
    const size_t k = opt.dims;
    SpectralResult out;
    Rng rng(opt.seed, 0);
    std::vector<double> w(n_ * p_);
    for (double& x : w) x = rng.uniform64() - 0.5;
    op_.deflate(w.data(), p_);
    orthonormalise(w.data(), 0);
    store(w.data(), 0);
    size_t m = 0;
    for (;;) {
      while (m < limit_) {
        expand(m, w);
        m += p_;
      }
      std::vector<double> s, theta;
      std::vector<size_t> order;
      ritz(m, theta, s, order);
      // ||N y - theta y|| = ||R_last s_last|| for y = V s.
      bool converged = true;
      for (size_t j = 0; j < k && converged; ++j) converged = residualEstimate(m, s, order[j]) <= opt.tolerance;
      if (converged || out.restarts >= opt.maxRestarts) {
        out.converged = converged;
        std::vector<double> y = combine(m, s, order, k);
        for (size_t j = 0; j < k; ++j) out.eigenvalues.push_back(theta[order[j]]);
        out.products = products_;
        finish(op_, y, k, out);
        return out;
      }
      restart(m, s, theta, order);
      m = keep_;
      ++out.restarts;
    }
  }

 private:
  double* row(size_t i) { return v_.data() + i * stride_; }

  void store(const double* w, size_t col) {
    parallelFor(op_.threads(), int64_t(n_), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) std::copy(w + size_t(i) * p_, w + size_t(i + 1) * p_, row(size_t(i)) + col);
    });
  }

  // w -= V[:, 0:mm] (V[:, 0:mm]^T w), twice; returns the summed coefficients.
  std::vector<double> project(double* w, size_t mm) {
    std::vector<double> total(mm * p_, 0.0);
    if (mm == 0) return total;
    for (int pass = 0; pass < 2; ++pass) {
      const std::vector<double> h = op_.gram(v_.data(), stride_, mm, w, p_);
      parallelFor(op_.threads(), int64_t(n_), [&](int64_t b, int64_t e, int) {
        switch (p_) {
          case 4: return subtractRows<4>(h.data(), mm, w, size_t(b), size_t(e));
          case 8: return subtractRows<8>(h.data(), mm, w, size_t(b), size_t(e));
          case 16: return subtractRows<16>(h.data(), mm, w, size_t(b), size_t(e));
          default: return subtractRows<0>(h.data(), mm, w, size_t(b), size_t(e));
        }
      });
      for (size_t t = 0; t < mm * p_; ++t) total[t] += h[t];
    }
    return total;
  }

  // Rows [begin, end) of w -= V[:, 0:mm] h, each row of w kept in registers
  // when its width P is known at compile time (0: use p_).
  template <size_t P>
  void subtractRows(const double* h, size_t mm, double* w, size_t begin, size_t end) const {
    const size_t width = P ? P : p_;
    std::vector<double> spill(P ? 0 : width);
    for (size_t i = begin; i < end; ++i) {
      const double* vi = v_.data() + i * stride_;
      double* wi = w + i * width;
      double local[P ? P : 1];
      double* row = P ? local : spill.data();
      std::copy(wi, wi + width, row);
      for (size_t r = 0; r < mm; ++r)
        for (size_t c = 0; c < width; ++c) row[c] -= vi[r] * h[r * width + c];
      std::copy(row, row + width, wi);
    }
  }

  // Column-by-column Gram-Schmidt of w (n x p), already orthogonal to V[:, 0:mm]:
  // w = Q R. A column that vanishes (the Krylov space closed up) is replaced by
  // a random direction orthogonal to everything so far, with a zero R row.
  void orthonormalise(double* w, size_t mm) {
    std::fill(r_.begin(), r_.end(), 0.0);
    std::vector<double> col(n_);
    for (size_t c = 0; c < p_; ++c) {
      for (int attempt = 0;; ++attempt) {
        for (int pass = 0; pass < 2; ++pass) {
          const std::vector<double> d = op_.gram(w, p_, c, columnBlock(w, c, col), 1);
          for (size_t i = 0; i < n_; ++i)
            for (size_t c2 = 0; c2 < c; ++c2) w[i * p_ + c] -= d[c2] * w[i * p_ + c2];
          if (attempt == 0)
            for (size_t c2 = 0; c2 < c; ++c2) r_[c2 * p_ + c] += d[c2];
        }
        double norm = 0;
        for (size_t i = 0; i < n_; ++i) norm += w[i * p_ + c] * w[i * p_ + c];
        norm = std::sqrt(norm);
        if (norm > 1e-10 || attempt > 3) {
          if (attempt == 0) r_[c * p_ + c] = norm;
          for (size_t i = 0; i < n_; ++i) w[i * p_ + c] /= norm;
          break;
        }
        if (attempt == 0)
          for (size_t c2 = 0; c2 < c; ++c2) r_[c2 * p_ + c] = 0.0;
        randomColumn(w, c, mm);
      }
    }
  }

  const double* columnBlock(const double* w, size_t c, std::vector<double>& col) const {
    for (size_t i = 0; i < n_; ++i) col[i] = w[i * p_ + c];
    return col.data();
  }

  void randomColumn(double* w, size_t c, size_t mm) {
    std::vector<double> x(n_ * p_, 0.0);
    for (size_t i = 0; i < n_; ++i) x[i * p_] = spare_.uniform64() - 0.5;
    op_.deflate(x.data(), p_);
    project(x.data(), mm);
    for (size_t i = 0; i < n_; ++i) w[i * p_ + c] = x[i * p_];
  }

  // Multiplies block [m, m+p) and orthogonalises the result into block [m+p, m+2p).
  void expand(size_t m, std::vector<double>& w) {
    // A compact, cache-line aligned copy of the block keeps the multiply's
    // random reads in cache (a row of 8 doubles is one line).
    double* block = blockStore_.data() + (8 - (reinterpret_cast<uintptr_t>(blockStore_.data()) / sizeof(double)) % 8) % 8;
    parallelFor(op_.threads(), int64_t(n_), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) std::copy(row(size_t(i)) + m, row(size_t(i)) + m + p_, block + size_t(i) * p_);
    });
    op_.multiply(block, p_, w.data(), p_);
    products_ += p_;
    op_.deflate(w.data(), p_);
    const size_t mm = m + p_;
    const std::vector<double> h = project(w.data(), mm);
    for (size_t r = 0; r < mm; ++r)
      for (size_t c = 0; c < p_; ++c) {
        const double value = r >= m ? 0.5 * (h[r * p_ + c] + h[(m + c) * p_ + (r - m)]) : h[r * p_ + c];
        t_[r * stride_ + m + c] = value;
        t_[(m + c) * stride_ + r] = value;
      }
    orthonormalise(w.data(), mm);
    store(w.data(), mm);
    for (size_t r = 0; r < p_; ++r)
      for (size_t c = 0; c < p_; ++c) {
        t_[(mm + r) * stride_ + m + c] = r_[r * p_ + c];
        t_[(m + c) * stride_ + mm + r] = r_[r * p_ + c];
      }
  }

  void ritz(size_t m, std::vector<double>& theta, std::vector<double>& s, std::vector<size_t>& order) const {
    std::vector<double> a(m * m);
    for (size_t r = 0; r < m; ++r)
      for (size_t c = 0; c < m; ++c) a[r * m + c] = t_[r * stride_ + c];
    theta = jacobiEigen(a, m, s);
    order = descendingOrder(theta);
  }

  double residualEstimate(size_t m, const std::vector<double>& s, size_t j) const {
    double total = 0;
    for (size_t r = 0; r < p_; ++r) {
      double x = 0;
      for (size_t c = 0; c < p_; ++c) x += r_[r * p_ + c] * s[(m - p_ + c) * m + j];
      total += x * x;
    }
    return std::sqrt(total);
  }

  // Y (n x k) = V[:, 0:m] S[:, order[0:k]].
  std::vector<double> combine(size_t m, const std::vector<double>& s, const std::vector<size_t>& order, size_t k) {
    std::vector<double> y(n_ * k, 0.0);
    parallelFor(op_.threads(), int64_t(n_), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        const double* vi = row(size_t(i));
        for (size_t j = 0; j < k; ++j) {
          double sum = 0;
          for (size_t r = 0; r < m; ++r) sum += vi[r] * s[r * m + order[j]];
          y[size_t(i) * k + j] = sum;
        }
      }
    });
    return y;
  }

  // Thick restart: V[:, 0:keep] = leading Ritz vectors, the pending block moves
  // to [keep, keep+p), and T becomes diag(theta) (the coupling to the pending
  // block is recomputed when it is expanded).
  void restart(size_t m, const std::vector<double>& s, const std::vector<double>& theta, const std::vector<size_t>& order) {
    const std::vector<double> y = combine(m, s, order, keep_);
    parallelFor(op_.threads(), int64_t(n_), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        double* vi = row(size_t(i));
        std::copy(y.begin() + i * int64_t(keep_), y.begin() + (i + 1) * int64_t(keep_), vi);
        std::copy(vi + m, vi + m + p_, vi + keep_);
      }
    });
    std::fill(t_.begin(), t_.end(), 0.0);
    for (size_t j = 0; j < keep_; ++j) t_[j * stride_ + j] = theta[order[j]];
  }

  const Operator& op_;
  size_t n_, p_, keep_, limit_, stride_;
  std::vector<double> v_;  // n x stride basis, row-major
  std::vector<double> t_;  // projected matrix V^T N V
  std::vector<double> r_;  // R of the last block's QR: couples the pending block
  std::vector<double> blockStore_;  // the block being multiplied, n x p (aligned inside)
  Rng spare_;
  uint64_t products_ = 0;
};

}  // namespace

JaccardGraph jaccardGraph(const uint32_t* indptr, const uint32_t* indices, size_t nUsers, size_t nItems, uint32_t topK,
                          int threads) {
  const size_t nnz = indptr[nUsers];
  std::vector<uint32_t> colPtr(nItems + 1, 0), colUsers(nnz);
  for (size_t k = 0; k < nnz; ++k) ++colPtr[indices[k] + 1];
  for (size_t i = 0; i < nItems; ++i) colPtr[i + 1] += colPtr[i];
  {
    std::vector<uint32_t> fill(colPtr.begin(), colPtr.end() - 1);
    for (size_t u = 0; u < nUsers; ++u)
      for (uint32_t k = indptr[u]; k < indptr[u + 1]; ++k) colUsers[fill[indices[k]]++] = uint32_t(u);
  }
  const int64_t chunks = (int64_t(nItems) + kItemChunk - 1) / kItemChunk;
  const size_t chunkCount = size_t(chunks);
  std::vector<std::vector<uint32_t>> chunkIdx(chunkCount);
  std::vector<std::vector<float>> chunkVal(chunkCount);
  std::vector<uint32_t> rowLength(nItems, 0);
  std::vector<std::vector<uint32_t>> counts(size_t(std::max(1, threads)));
  dynamicFor(threads, chunks, [&](int64_t chunk, int t) {
    std::vector<uint32_t>& count = counts[size_t(t)];
    if (count.empty()) count.assign(nItems, 0);
    std::vector<uint32_t> touched;
    std::vector<std::pair<uint32_t, float>> row;
    const size_t end = std::min(nItems, size_t(chunk + 1) * kItemChunk);
    for (size_t i = size_t(chunk) * kItemChunk; i < end; ++i) {
      touched.clear();
      for (uint32_t a = colPtr[i]; a < colPtr[i + 1]; ++a) {
        const uint32_t u = colUsers[a];
        for (uint32_t k = indptr[u]; k < indptr[u + 1]; ++k) {
          const uint32_t j = indices[k];
          if (j != i && count[j]++ == 0) touched.push_back(j);
        }
      }
      row.clear();
      const double degI = double(colPtr[i + 1] - colPtr[i]);
      for (uint32_t j : touched) {
        const double shared = count[j];
        row.emplace_back(j, float(shared / (degI + double(colPtr[j + 1] - colPtr[j]) - shared)));
        count[j] = 0;
      }
      keepTop(row, topK);
      std::sort(row.begin(), row.end());
      rowLength[i] = uint32_t(row.size());
      for (const auto& [j, v] : row) {
        chunkIdx[size_t(chunk)].push_back(j);
        chunkVal[size_t(chunk)].push_back(v);
      }
    }
  });
  JaccardGraph g;
  g.indptr.assign(nItems + 1, 0);
  size_t total = 0;
  for (size_t i = 0; i < nItems; ++i) {
    total += rowLength[i];
    if (total > 0xFFFFFFFFull) throw std::length_error("the Jaccard graph has more than 2^32 entries: set topK");
    g.indptr[i + 1] = uint32_t(total);
  }
  g.indices.reserve(total);
  g.values.reserve(total);
  for (int64_t c = 0; c < chunks; ++c) {
    g.indices.insert(g.indices.end(), chunkIdx[size_t(c)].begin(), chunkIdx[size_t(c)].end());
    g.values.insert(g.values.end(), chunkVal[size_t(c)].begin(), chunkVal[size_t(c)].end());
    std::vector<uint32_t>().swap(chunkIdx[size_t(c)]);
    std::vector<float>().swap(chunkVal[size_t(c)]);
  }
  return topK > 0 ? symmetriseByUnion(g, nItems) : g;
}

SpectralResult spectralEmbedding(const SparseMatrixView& a, const SpectralOptions& opt) {
  if (opt.dims < 1 || opt.dims >= a.n) throw InvalidArgument("dims must be in [1, n - 1]");
  if (opt.blockSize < 1) throw InvalidArgument("blockSize must be at least 1");
  Operator op(a, opt.threads);
  // Kept Ritz vectors: the wanted ones plus a guard block, rounded up to whole
  // blocks so that the first fill and every restart end exactly at the limit.
  const size_t p = opt.blockSize, keep = p * ((opt.dims + 2 * p - 1) / p);
  size_t limit = opt.basisSize ? std::max<size_t>(opt.basisSize, keep + p) : std::max<size_t>(3 * opt.dims, keep + 4 * p);
  limit = keep + p * ((limit - keep + p - 1) / p);
  // Krylov needs room for the basis, the pending block and replacements.
  if (a.n < limit + 2 * p + 2) return denseSpectral(op, opt.dims);
  BlockKrylov krylov(op, opt, keep, limit);
  return krylov.run(opt);
}

}  // namespace dtlns
