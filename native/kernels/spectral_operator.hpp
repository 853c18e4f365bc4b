// The operator whose leading eigenvectors kernels/spectral.cpp finds: the
// normalised adjacency N = D^-1/2 J D^-1/2 deflated of its trivial direction.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/parallel.hpp"
#include "kernels/spectral.hpp"

namespace dtlns::spectral {

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

}  // namespace dtlns::spectral
