// The Hogwild path of kernels/train.hpp: MF (or 0 layers) with 'lazy-adam' or 'sgd'
// and one rns or pop negative per positive, each sample its own lock-free update.
#include "kernels/hogwild.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"
#include "kernels/train_common.hpp"

namespace dtlns {
namespace {

enum class SampleResult { Ok, BadLoss, BadParameter };

// Per-sample BPR + L2 update of rows u, i, j, lock-free. Gradients come from
// the rows as read before the update; the update is coordinate-wise.
template <bool kAdam>
inline SampleResult hogwildSample(const ModelTables& m, const OptimizerConfig& oc, const AdamStep& step, float l2,
                                  uint32_t u, uint32_t i, uint32_t j, BatchLoss& loss) {
  const size_t dim = m.dim;
  const AdamStep a = step;  // a local copy: the row stores cannot alias it, so it stays in registers
  float* __restrict pu = m.userEmb + size_t(u) * dim;
  float* __restrict pi = m.itemEmb + size_t(i) * dim;
  float* __restrict pj = m.itemEmb + size_t(j) * dim;
  float si = 0.f, sj = 0.f, nu = 0.f, ni = 0.f, nj = 0.f;
#pragma omp simd reduction(+ : si, sj, nu, ni, nj)
  for (size_t d = 0; d < dim; ++d) {
    si += pu[d] * pi[d];
    sj += pu[d] * pj[d];
    nu += pu[d] * pu[d];
    ni += pi[d] * pi[d];
    nj += pj[d] * pj[d];
  }
  const float x = sj - si;
  if (!std::isfinite(x)) return SampleResult::BadLoss;
  const float g = sigmoid(x);
  loss.bpr += softplus(x);
  loss.reg += 0.5 * double(l2) * double(nu + ni + nj);
  ++loss.samples;
  float witness = 0.f;
  if constexpr (kAdam) {
    float* __restrict mu = m.userM + size_t(u) * dim;
    float* __restrict vu = m.userV + size_t(u) * dim;
    float* __restrict mi = m.itemM + size_t(i) * dim;
    float* __restrict vi = m.itemV + size_t(i) * dim;
    float* __restrict mj = m.itemM + size_t(j) * dim;
    float* __restrict vj = m.itemV + size_t(j) * dim;
#pragma omp simd reduction(+ : witness)
    for (size_t d = 0; d < dim; ++d) {
      const float eu = pu[d], ei = pi[d], ej = pj[d];
      pu[d] = adamCoordinate(eu, mu[d], vu[d], g * (ej - ei) + l2 * eu, a);
      pi[d] = adamCoordinate(ei, mi[d], vi[d], -g * eu + l2 * ei, a);
      pj[d] = adamCoordinate(ej, mj[d], vj[d], g * eu + l2 * ej, a);
      witness += (pu[d] + pi[d] + pj[d]) * 0.f;
    }
  } else {
    const float lr = oc.lr;
#pragma omp simd reduction(+ : witness)
    for (size_t d = 0; d < dim; ++d) {
      const float eu = pu[d], ei = pi[d], ej = pj[d];
      pu[d] = eu - lr * (g * (ej - ei) + l2 * eu);
      pi[d] = ei - lr * (-g * eu + l2 * ei);
      pj[d] = ej - lr * (g * eu + l2 * ej);
      witness += (pu[d] + pi[d] + pj[d]) * 0.f;
    }
  }
  return std::isfinite(witness) ? SampleResult::Ok : SampleResult::BadParameter;
}

constexpr size_t kPrefetchDistance = 6;

// Samples [0, n) of (users, pos, neg) in order; neg == kNoNegative is skipped.
template <bool kAdam>
SampleResult hogwildRange(const ModelTables& m, const OptimizerConfig& oc, const AdamStep& a, float l2,
                          const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n, BatchLoss& loss,
                          uint64_t& skipped) {
  const size_t dim = m.dim;
  for (size_t k = 0; k < n; ++k) {
    if (k + kPrefetchDistance < n) {
      const size_t f = k + kPrefetchDistance;
      const size_t uo = size_t(users[f]) * dim, io = size_t(pos[f]) * dim;
      prefetchRow(m.userEmb + uo, dim, true);
      prefetchRow(m.itemEmb + io, dim, true);
      if (kAdam) {
        prefetchRow(m.userM + uo, dim, true);
        prefetchRow(m.userV + uo, dim, true);
        prefetchRow(m.itemM + io, dim, true);
        prefetchRow(m.itemV + io, dim, true);
      }
      if (neg[f] != kNoNegative) {
        const size_t jo = size_t(neg[f]) * dim;
        prefetchRow(m.itemEmb + jo, dim, true);
        if (kAdam) {
          prefetchRow(m.itemM + jo, dim, true);
          prefetchRow(m.itemV + jo, dim, true);
        }
      }
    }
    if (neg[k] == kNoNegative) {
      ++skipped;
      continue;
    }
    const SampleResult r = hogwildSample<kAdam>(m, oc, a, l2, users[k], pos[k], neg[k], loss);
    if (r != SampleResult::Ok) return r;
  }
  return SampleResult::Ok;
}

SampleResult hogwildRange(const ModelTables& m, const TrainConfig& c, const AdamStep& a, const uint32_t* users,
                          const uint32_t* pos, const uint32_t* neg, size_t n, BatchLoss& loss, uint64_t& skipped) {
  return c.optimizer.kind == Optimizer::Sgd
             ? hogwildRange<false>(m, c.optimizer, a, c.l2, users, pos, neg, n, loss, skipped)
             : hogwildRange<true>(m, c.optimizer, a, c.l2, users, pos, neg, n, loss, skipped);
}

const char* describeFailure(SampleResult r) { return r == SampleResult::BadLoss ? "the loss" : "a parameter"; }

// The first failure over all threads: the lowest batch wins.
struct FailureRecord {
  std::atomic<int64_t> batch{std::numeric_limits<int64_t>::max()};
  std::atomic<int> kind{0};
  void record(int64_t b, SampleResult r) {
    int64_t seen = batch.load();
    while (b < seen && !batch.compare_exchange_weak(seen, b)) {
    }
    if (b <= batch.load()) kind.store(int(r));
  }
  bool failedBy(int64_t b) const { return batch.load(std::memory_order_relaxed) <= b; }
  bool any() const { return batch.load() != std::numeric_limits<int64_t>::max(); }
};

}  // namespace

TrainStats hogwildEpoch(const ModelTables& original, const PositiveSets& train, const TrainConfig& config,
                        uint64_t step) {
  const auto start = Clock::now();
  const StagedModel staged(original, config.optimizer);
  const ModelTables& model = staged.tables();
  const EpochPlan plan = planEpoch(train, config.seed, config.batch, config.sampler.positives);
  const Sampler sampler(config.sampler, train);
  const PairFilter filter(config.rejection(train));
  const PositiveSets nonNegatives = config.rejection(train).filteredBy(filter);
  const size_t nBatches = plan.nBatches;
  // Every negative of the epoch first, all threads taking chunks: drawn apart from
  // the updates, the draws' lookups keep their cache lines (drawn chunk by chunk
  // between updates, they took 2-3x as long).
  CachedVector<uint32_t> negatives(plan.size());
  const int64_t chunks = int64_t(nBatches * plan.chunksPerBatch);
  parallelFor(threadsFor(config.threads, 40.0 * double(plan.size())), chunks, [&](int64_t first, int64_t last, int) {
    for (int64_t k = first; k < last; ++k) {
      const size_t b = size_t(k) / plan.chunksPerBatch, c = size_t(k) % plan.chunksPerBatch;
      if (plan.chunkBegin(b, c) < plan.chunkEnd(b, c))
        drawChunkNegatives(plan, nonNegatives, b, c, negatives.data() + plan.chunkBegin(b, c), sampler.popularity());
    }
  });
  // Adam's t of each batch: one step per batch that has a sample with a negative.
  std::vector<uint64_t> stepsBefore(nBatches + 1, 0);
  for (size_t b = 0; b < nBatches; ++b) {
    bool trains = false;
    for (size_t k = plan.batchBegin(b); k < plan.batchEnd(b) && !trains; ++k)
      trains = nonNegatives.degree(plan.users[k]) < nonNegatives.nItems;
    stepsBefore[b + 1] = stepsBefore[b] + (trains ? 1 : 0);
  }
  const int slots = std::max(1, config.threads);
  std::vector<BatchLoss> losses(size_t(slots) * nBatches);
  std::vector<uint64_t> skipped(size_t(slots), 0);
  FailureRecord failure;
  parallelFor(slots, slots, [&](int64_t firstSlot, int64_t lastSlot, int) {
    for (int64_t slot = firstSlot; slot < lastSlot; ++slot) {
      uint64_t slotSkipped = 0;
      for (size_t b = 0; b < nBatches && !failure.failedBy(int64_t(b)); ++b) {
        const size_t chunks = (plan.batchEnd(b) - plan.batchBegin(b) + kSampleChunk - 1) / kSampleChunk;
        const size_t c0 = chunks * size_t(slot) / size_t(slots), c1 = chunks * size_t(slot + 1) / size_t(slots);
        const AdamStep a(config.optimizer, step + stepsBefore[b] + 1);
        BatchLoss batchLoss;  // local: the slots' records share cache lines
        for (size_t c = c0; c < c1; ++c) {
          const size_t begin = plan.chunkBegin(b, c);
          const SampleResult r =
              hogwildRange(model, config, a, plan.users.data() + begin, plan.items.data() + begin, negatives.data() + begin,
                           plan.chunkEnd(b, c) - begin, batchLoss, slotSkipped);
          if (r != SampleResult::Ok) {
            failure.record(int64_t(b), r);
            break;
          }
        }
        losses[size_t(slot) * nBatches + b] = batchLoss;
      }
      skipped[size_t(slot)] = slotSkipped;
    }
  });
  staged.writeBack();
  if (failure.any()) {
    const size_t b = size_t(failure.batch.load());
    failFit(describeFailure(SampleResult(failure.kind.load())), b, step + stepsBefore[b] + 1);
  }
  LossMeans means;
  for (size_t b = 0; b < nBatches; ++b) {
    BatchLoss total;
    for (int slot = 0; slot < slots; ++slot) {
      const BatchLoss& l = losses[size_t(slot) * nBatches + b];
      total.bpr += l.bpr;
      total.reg += l.reg;
      total.samples += l.samples;
    }
    if (total.samples) means.add(total);
  }
  uint64_t totalSkipped = 0;
  for (uint64_t s : skipped) totalSkipped += s;
  return means.stats(totalSkipped, step, start);
}


TrainStats hogwildStep(const ModelTables& model, const TrainConfig& config, uint64_t step, const uint32_t* users,
                       const uint32_t* pos, const uint32_t* neg, size_t n) {
  const auto start = Clock::now();
  LossMeans means;
  const AdamStep a(config.optimizer, step + 1);
  const int slots = int(std::max<int64_t>(1, std::min<int64_t>(config.threads, int64_t(n))));
  std::vector<BatchLoss> losses(static_cast<size_t>(slots));
  std::vector<uint64_t> skipped(size_t(slots), 0);
  FailureRecord failure;
  parallelFor(slots, slots, [&](int64_t firstSlot, int64_t lastSlot, int) {
    for (int64_t slot = firstSlot; slot < lastSlot; ++slot) {
      const size_t begin = n * size_t(slot) / size_t(slots), end = n * size_t(slot + 1) / size_t(slots);
      BatchLoss loss;  // local: the slots' records share cache lines
      uint64_t slotSkipped = 0;
      const SampleResult r =
          hogwildRange(model, config, a, users + begin, pos + begin, neg + begin, end - begin, loss, slotSkipped);
      losses[size_t(slot)] = loss;
      skipped[size_t(slot)] = slotSkipped;
      if (r != SampleResult::Ok) failure.record(0, r);
    }
  });
  if (failure.any()) failFit(describeFailure(SampleResult(failure.kind.load())), 0, step + 1);
  BatchLoss total;
  for (const BatchLoss& l : losses) {
    total.bpr += l.bpr;
    total.reg += l.reg;
    total.samples += l.samples;
  }
  means.add(total);
  return means.stats(0, step, start);
}


}  // namespace dtlns
