#include "kernels/adam.hpp"

#include <atomic>

#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {

bool denseAdam(const NodeParams& params, const float* grad, const uint8_t* hasGrad, const AdamStep& a, int threads) {
  const size_t dim = params.dim;
  std::atomic<bool> finite{true};
  parallelFor(threadsFor(threads, 10.0 * double(params.nodes() * dim)), int64_t(params.nodes()), [&](int64_t begin, int64_t end, int) {
    float witness = 0.f;
    for (int64_t r = begin; r < end; ++r) {
      const ParamTable& t = params.table(size_t(r));
      const size_t o = params.offset(size_t(r));
      witness += hasGrad[r] ? adamRow(t.p + o, t.m + o, t.v + o, grad + size_t(r) * dim, dim, a)
                            : adamRowZeroGrad(t.p + o, t.m + o, t.v + o, dim, a);
    }
    if (!std::isfinite(witness)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

bool sparseUpdate(const NodeParams& params, const float* grad, const uint32_t* nodes, size_t count,
                  const OptimizerConfig& c, const AdamStep& a, int threads) {
  const size_t dim = params.dim;
  std::atomic<bool> finite{true};
  parallelFor(threadsFor(threads, 10.0 * double(count * dim)), int64_t(count), [&](int64_t begin, int64_t end, int) {
    float witness = 0.f;
    for (int64_t k = begin; k < end; ++k) {
      const uint32_t r = nodes[k];
      const float* g = grad + size_t(r) * dim;
      if (rowIsZero(g, dim)) continue;
      const ParamTable& t = params.table(r);
      const size_t o = params.offset(r);
      witness += c.kind == Optimizer::Sgd ? sgdRow(t.p + o, g, dim, c.lr) : adamRow(t.p + o, t.m + o, t.v + o, g, dim, a);
    }
    if (!std::isfinite(witness)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

}  // namespace dtlns
