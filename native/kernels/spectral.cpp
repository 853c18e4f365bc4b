// The leading non-trivial eigenvectors of the normalised item graph (kernels/spectral.hpp):
// block Krylov with thick restarts, or densely for small graphs. The graph is built in
// kernels/jaccard.cpp, the operator is kernels/spectral_operator.hpp.
#include "kernels/spectral.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/dense_eigen.hpp"
#include "kernels/errors.hpp"
#include "kernels/parallel.hpp"
#include "kernels/rng.hpp"
#include "kernels/spectral_operator.hpp"

namespace dtlns {
namespace {

using spectral::descendingOrder;
using spectral::jacobiEigen;
using spectral::kRowBlock;
using spectral::Operator;

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
