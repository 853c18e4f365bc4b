#include "kernels/adam.hpp"

#include <atomic>

#include "kernels/parallel.hpp"

namespace dtlns {

bool denseAdam(const ParamTable& table, const float* grad, const uint8_t* hasGrad, size_t dim, const AdamStep& a,
               int threads) {
  std::atomic<bool> finite{true};
  parallelFor(threads, int64_t(table.rows), [&](int64_t begin, int64_t end, int) {
    float witness = 0.f;
    for (int64_t r = begin; r < end; ++r) {
      const size_t o = size_t(r) * dim;
      witness += hasGrad[r] ? adamRow(table.p + o, table.m + o, table.v + o, grad + o, dim, a)
                        : adamRowZeroGrad(table.p + o, table.m + o, table.v + o, dim, a);
    }
    if (!std::isfinite(witness)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

bool sparseUpdate(const ParamTable& table, const float* grad, const uint32_t* rows, size_t nRows, size_t dim,
                  const OptimizerConfig& c, const AdamStep& a, int threads) {
  std::atomic<bool> finite{true};
  parallelFor(threads, int64_t(nRows), [&](int64_t begin, int64_t end, int) {
    float witness = 0.f;
    for (int64_t k = begin; k < end; ++k) {
      const size_t o = size_t(rows[k]) * dim;
      if (rowIsZero(grad + o, dim)) continue;
      witness += c.kind == Optimizer::Sgd ? sgdRow(table.p + o, grad + o, dim, c.lr)
                                      : adamRow(table.p + o, table.m + o, table.v + o, grad + o, dim, a);
    }
    if (!std::isfinite(witness)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

}  // namespace dtlns
