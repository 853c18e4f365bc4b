// Optimizer updates on embedding rows, with torch.optim.Adam's exact
// arithmetic (single-tensor CPU path): m.lerp_(g, 1-b1); v = b2 v + (1-b2) g^2;
// p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), bc_k = 1 - b_k^t.
// Each row function returns a finiteness witness: 0 when every updated
// parameter is finite, NaN otherwise (it sums p * 0, so huge but finite values
// never raise a false alarm). Callers add witnesses and test the total.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace dtlns {

enum class Optimizer { Adam, LazyAdam, Sgd };

// No defaults: the binding requires each field (the only defaults are trainDefaults in
// src/defaults.ts). NaN until set, so a caller that forgets one fails the finiteness check.
struct OptimizerConfig {
  Optimizer kind = Optimizer::Adam;
  float lr = std::nanf(""), beta1 = std::nanf(""), beta2 = std::nanf(""), eps = std::nanf("");
};

// The per-step constants of Adam step t (1-based).
struct AdamStep {
  float oneMinusBeta1, beta2, oneMinusBeta2, eps, stepSize, bc2Sqrt;
  AdamStep(const OptimizerConfig& c, uint64_t t)
      : oneMinusBeta1(float(1.0 - double(c.beta1))),
        beta2(c.beta2),
        oneMinusBeta2(float(1.0 - double(c.beta2))),
        eps(c.eps),
        stepSize(float(double(c.lr) / (1.0 - std::pow(double(c.beta1), double(t))))),
        bc2Sqrt(float(std::sqrt(1.0 - std::pow(double(c.beta2), double(t))))) {}
};

// One coordinate: updates m and v, returns the new parameter value.
inline float adamCoordinate(float p, float& m, float& v, float g, const AdamStep& a) {
  m = m + a.oneMinusBeta1 * (g - m);
  v = a.beta2 * v + a.oneMinusBeta2 * g * g;
  return p - a.stepSize * (m / (std::sqrt(v) / a.bc2Sqrt + a.eps));
}

inline float adamRow(float* p, float* m, float* v, const float* g, size_t dim, const AdamStep& a) {
  float witness = 0.f;
#pragma omp simd reduction(+ : witness)
  for (size_t d = 0; d < dim; ++d) {
    p[d] = adamCoordinate(p[d], m[d], v[d], g[d], a);
    witness += p[d] * 0.f;
  }
  return witness;
}

// Adam on a row whose gradient is zero: the moments decay and the row still moves.
inline float adamRowZeroGrad(float* p, float* m, float* v, size_t dim, const AdamStep& a) {
  float witness = 0.f;
#pragma omp simd reduction(+ : witness)
  for (size_t d = 0; d < dim; ++d) {
    const float md = m[d] - a.oneMinusBeta1 * m[d];
    const float vd = a.beta2 * v[d];
    const float pd = p[d] - a.stepSize * (md / (std::sqrt(vd) / a.bc2Sqrt + a.eps));
    m[d] = md;
    v[d] = vd;
    p[d] = pd;
    witness += pd * 0.f;
  }
  return witness;
}

inline float sgdRow(float* p, const float* g, size_t dim, float lr) {
  float witness = 0.f;
#pragma omp simd reduction(+ : witness)
  for (size_t d = 0; d < dim; ++d) {
    p[d] -= lr * g[d];
    witness += p[d] * 0.f;
  }
  return witness;
}

inline bool rowIsZero(const float* g, size_t dim) {
  for (size_t d = 0; d < dim; ++d)
    if (g[d] != 0.f) return false;
  return true;
}

// One table (rows x dim) of parameters with its moments.
struct ParamTable {
  float* p;
  float* m;  // null for sgd
  float* v;
  size_t rows;
};

// The user and item tables as one node space: node r < users.rows is user r,
// the others item r - users.rows. Gradients come as one stacked table.
struct NodeParams {
  ParamTable users, items;
  size_t dim;
  size_t nodes() const { return users.rows + items.rows; }
  // Offset of node r's row in its table, and the table.
  const ParamTable& table(size_t r) const { return r < users.rows ? users : items; }
  size_t offset(size_t r) const { return (r < users.rows ? r : r - users.rows) * dim; }
};

// Dense Adam over every node in one multi-threaded pass: nodes with
// hasGrad[r] use the gradient row r, the others a zero gradient. Returns
// false when an updated parameter is not finite.
bool denseAdam(const NodeParams& params, const float* grad, const uint8_t* hasGrad, const AdamStep& a, int threads);

// lazy-adam / sgd: only the listed nodes whose gradient row is not all zero.
bool sparseUpdate(const NodeParams& params, const float* grad, const uint32_t* nodes, size_t count,
                  const OptimizerConfig& c, const AdamStep& a, int threads);

}  // namespace dtlns
