#include "kernels/mf_adam.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/dot.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

// Rows of upcoming samples are prefetched this many samples ahead; their slots further.
constexpr size_t kPrefetchSamples = 8;
constexpr size_t kPrefetchSlots = 16;
// Rows caught up or updated one at a time are prefetched this many rows ahead.
constexpr size_t kPrefetchRows = 8;
// Samples per chunk of the one-thread order: their rows stay in L1/L2 between uses.
constexpr size_t kChunkSamples = 32;

NodeParams nodeParams(const ModelTables& m) {
  return NodeParams{ParamTable{m.userEmb, m.userM, m.userV, m.nUsers}, ParamTable{m.itemEmb, m.itemM, m.itemV, m.nItems},
                    m.dim};
}

}  // namespace

bool MfAdamTrainer::runs(const TrainConfig& c) {
  return c.effectiveLayers() == 0 && c.optimizer.kind == Optimizer::Adam && c.deferAdam && c.sampler.perSample() &&
         DeferredAdam::supports(c.optimizer);
}

MfAdamTrainer::MfAdamTrainer(const ModelTables& model, const TrainConfig& config, uint64_t step)
    : m_(model),
      l2_(config.l2),
      threads_(config.threads),
      adam_(nodeParams(model), config.optimizer, step),
      slotOf_(size_t(model.nUsers) + model.nItems, kNoSlot) {}

void MfAdamTrainer::assignSlots(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n) {
  rows_.clear();
  occurrences_.clear();
  firstSample_.clear();
  lastSample_.clear();
  sampleSlots_.resize(3 * n);
  sampleSlotEnd_.resize(n);
  size_t k = 0;
  auto slot = [&](uint32_t node) {
    uint32_t& s = slotOf_[node];
    if (s == kNoSlot) {
      s = uint32_t(rows_.size());
      rows_.push_back(node);
      occurrences_.push_back(0);
      firstSample_.push_back(k);
      lastSample_.push_back(k);
    }
    ++occurrences_[s];
    lastSample_[s] = k;
    return s;
  };
  const uint32_t nU = m_.nUsers;
  for (; k < n; ++k) {
    if (k + kPrefetchSlots < n) {
      prefetchWord(&slotOf_[users[k + kPrefetchSlots]]);
      prefetchWord(&slotOf_[nU + pos[k + kPrefetchSlots]]);
      prefetchWord(&slotOf_[nU + neg[k + kPrefetchSlots]]);
    }
    sampleSlots_[3 * k] = slot(users[k]);
    sampleSlots_[3 * k + 1] = slot(nU + pos[k]);
    sampleSlots_[3 * k + 2] = slot(nU + neg[k]);
    sampleSlotEnd_[k] = uint32_t(rows_.size());
  }
}

// Room for a batch of n samples at its bound (3 slots a sample), taken at once: an
// epoch's trainer then asks the BlockCache for the same sizes as the last one and
// gets its blocks back, where growing by doubling took fresh memory (a page fault
// per 4 KiB, about 2,800 an epoch on a Gowalla-sized table).
void MfAdamTrainer::reserveFor(size_t n) {
  const size_t slots = 3 * n, dim = m_.dim;
  if (current_.capacity() >= 3 * slots * dim) return;
  rows_.reserve(slots);
  occurrences_.reserve(slots);
  firstSample_.reserve(slots);
  lastSample_.reserve(slots);
  sampleSlots_.reserve(3 * n);
  sampleSlotEnd_.reserve(n);
  current_.reserve(3 * slots * dim);
  grad_.reserve(slots * dim);
}

void MfAdamTrainer::releaseSlots() {
  for (uint32_t r : rows_) slotOf_[r] = kNoSlot;
}

// x = s_uj - s_ui; dL/dx = sigmoid(x) / n; the loss terms of samples [begin, end).
void MfAdamTrainer::scoreRange(size_t n, int64_t begin, int64_t end) {
  const size_t dim = m_.dim;
  // Five dot products per sample, on three rows of the compact tables.
  for (int64_t k = begin; k < end; ++k) {
    if (k + int64_t(kPrefetchSamples) < end)
      for (int x = 0; x < 3; ++x) prefetchRow(row(sampleSlots_[3 * (size_t(k) + kPrefetchSamples) + x]), dim, false);
    const float* u = row(sampleSlots_[3 * size_t(k)]);
    const float* i = row(sampleSlots_[3 * size_t(k) + 1]);
    const float* j = row(sampleSlots_[3 * size_t(k) + 2]);
    const float x = dot(u, j, dim) - dot(u, i, dim);
    coefficient_[size_t(k)] = sigmoid(x) / float(n);
    bprTerm_[size_t(k)] = softplus(x);
    normTerm_[size_t(k)] = dot(u, u, dim) + dot(i, i, dim) + dot(j, j, dim);
  }
}

// dL/du = g (j - i), dL/di = -g u, dL/dj = g u for samples [begin, end), into
// the rows `owns` accepts, each summed in sample order. A row's first term
// (in the sample that gave it its slot) is stored, the others added: no zeroing pass.
template <class Owns>
void MfAdamTrainer::accumulateRange(size_t begin, size_t end, Owns&& owns) {
  const size_t dim = m_.dim;
  for (size_t k = begin; k < end; ++k) {
    if (k + kPrefetchSamples < end) {
      for (int x = 0; x < 3; ++x) {
        const uint32_t s = sampleSlots_[3 * (k + kPrefetchSamples) + x];
        prefetchRow(row(s), dim, false);
        if (owns(s)) prefetchRow(grad_.data() + s * dim, dim, true);
      }
    }
    const uint32_t su = sampleSlots_[3 * k], si = sampleSlots_[3 * k + 1], sj = sampleSlots_[3 * k + 2];
    const float g = coefficient_[k];
    const float* fu = row(su);
    if (owns(su)) {
      float* d = grad_.data() + su * dim;
      const float* fi = row(si);
      const float* fj = row(sj);
      const bool first = firstSample_[su] == k;
#pragma omp simd
      for (size_t x = 0; x < dim; ++x) d[x] = (first ? 0.f : d[x]) + g * (fj[x] - fi[x]);
    }
    if (owns(si)) {
      float* d = grad_.data() + si * dim;
      const bool first = firstSample_[si] == k;
#pragma omp simd
      for (size_t x = 0; x < dim; ++x) d[x] = (first ? 0.f : d[x]) + -g * fu[x];
    }
    if (owns(sj)) {
      float* d = grad_.data() + sj * dim;
      const bool first = firstSample_[sj] == k;
#pragma omp simd
      for (size_t x = 0; x < dim; ++x) d[x] = (first ? 0.f : d[x]) + g * fu[x];
    }
  }
}

MfAdamTrainer::Outcome MfAdamTrainer::trainInPhases(size_t n, Loss& loss) {
  const size_t dim = m_.dim, slots = rows_.size(), table = slots * dim;
  const RowView current{current_.data(), current_.data() + table, current_.data() + 2 * table};
  slotRows_.resize(slots);
  for (size_t s = 0; s < slots; ++s) slotRows_[s] = RowView{current.p + s * dim, current.m + s * dim, current.v + s * dim};
  if (!adam_.readCaughtUp(rows_, current, threads_)) return Outcome::BadCatchUp;
  parallelFor(threadsFor(threads_, 16.0 * double(n * dim)), int64_t(n),
              [&](int64_t begin, int64_t end, int) { scoreRange(n, begin, end); });
  if (!sumLoss(n, loss)) return Outcome::BadLoss;
  // Each row is summed by one owner thread (slot % owners), so the sums do not depend on the thread count.
  const int64_t owners = threadsFor(threads_, 3.0 * double(n * dim));
  parallelFor(int(owners), owners, [&](int64_t first, int64_t last, int) {
    for (int64_t owner = first; owner < last; ++owner)
      accumulateRange(0, n, [&](uint32_t s) { return int64_t(s % uint64_t(owners)) == owner; });
  });
  const float regScale = l2_ / float(n);
  gradRows_.resize(slots);
  l2Weights_.resize(slots);
  for (size_t s = 0; s < slots; ++s) {
    gradRows_[s] = grad_.data() + s * dim;
    l2Weights_[s] = regScale * float(occurrences_[s]);
  }
  return adam_.update(rows_, gradRows_.data(), l2Weights_.data(), &current, threads_) ? Outcome::Ok
                                                                                       : Outcome::BadUpdate;
}

// The same steps on one thread, a chunk of samples at a time, so that a row is
// used while it is still in cache: per chunk, the rows first used in it are
// caught up and its samples scored; once the loss is known to be finite, per
// chunk, its gradients are summed and the rows last used in it updated. A row
// already current (updated at the last step) is used in place, not copied.
MfAdamTrainer::Outcome MfAdamTrainer::trainPipelined(size_t n, Loss& loss) {
  const size_t dim = m_.dim, slots = rows_.size(), table = slots * dim;
  slotRows_.resize(slots);
  uint32_t nonFinite = 0;
  for (size_t begin = 0, slot = 0; begin < n; begin += kChunkSamples) {
    const size_t end = std::min(n, begin + kChunkSamples);
    for (const size_t used = sampleSlotEnd_[end - 1]; slot < used; ++slot) {
      if (slot + kPrefetchRows < slots) adam_.prefetchParams(rows_[slot + kPrefetchRows], false);
      const uint32_t r = rows_[slot];
      if (adam_.isCurrent(r)) {
        slotRows_[slot] = adam_.row(r);
        continue;
      }
      float* p = current_.data() + slot * dim;
      slotRows_[slot] = RowView{p, p + table, p + 2 * table};
      nonFinite |= adam_.readCaughtUpRow(r, slotRows_[slot]);
    }
    scoreRange(n, int64_t(begin), int64_t(end));
  }
  if (nonFinite) return Outcome::BadCatchUp;
  if (!sumLoss(n, loss)) return Outcome::BadLoss;

  // Slots by the chunk of their last use (counting sort).
  const size_t chunks = (n + kChunkSamples - 1) / kChunkSamples;
  chunkStart_.assign(chunks + 1, 0);
  for (size_t s = 0; s < slots; ++s) ++chunkStart_[lastSample_[s] / kChunkSamples + 1];
  for (size_t c = 0; c < chunks; ++c) chunkStart_[c + 1] += chunkStart_[c];
  byLastUse_.resize(slots);
  for (size_t s = 0; s < slots; ++s) byLastUse_[chunkStart_[lastSample_[s] / kChunkSamples]++] = uint32_t(s);
  // chunkStart_[c] now ends chunk c's slots.

  const float regScale = l2_ / float(n);
  const AdamStep a = adam_.beginStep();
  for (size_t c = 0, next = 0; c < chunks; ++c) {
    const size_t begin = c * kChunkSamples;
    accumulateRange(begin, std::min(n, begin + kChunkSamples), [](uint32_t) { return true; });
    for (; next < chunkStart_[c]; ++next) {
      const uint32_t s = byLastUse_[next];
      if (next + kPrefetchRows < chunkStart_[c]) {
        const uint32_t ahead = byLastUse_[next + kPrefetchRows];
        adam_.prefetchParams(rows_[ahead], true);
        const RowView& copy = slotRows_[ahead];
        prefetchRow(copy.p, dim, false);
        prefetchRow(copy.m, dim, false);
        prefetchRow(copy.v, dim, false);
      }
      nonFinite |= adam_.updateRow(rows_[s], slotRows_[s], grad_.data() + size_t(s) * dim,
                                   regScale * float(occurrences_[s]), a);
    }
  }
  const bool restartFinite = adam_.endStep(threads_);
  return nonFinite == 0 && restartFinite ? Outcome::Ok : Outcome::BadUpdate;
}

// The batch's loss sums, in sample order; false when not finite.
bool MfAdamTrainer::sumLoss(size_t n, Loss& loss) const {
  loss = Loss{};
  for (size_t k = 0; k < n; ++k) {
    loss.bpr += bprTerm_[k];
    loss.reg += normTerm_[k];
  }
  loss.reg *= 0.5 * double(l2_);
  return std::isfinite(loss.bpr + loss.reg);
}

MfAdamTrainer::Outcome MfAdamTrainer::train(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n,
                                            Loss& loss) {
  reserveFor(n);
  assignSlots(users, pos, neg, n);
  struct Release {
    MfAdamTrainer* self;
    ~Release() { self->releaseSlots(); }
  } release{this};
  current_.resize(3 * rows_.size() * m_.dim);
  grad_.resize(rows_.size() * m_.dim);
  coefficient_.resize(n);
  bprTerm_.resize(n);
  normTerm_.resize(n);
  // Both orders do the same arithmetic on every row and sum in sample order: the results are the same.
  return threads_ <= 1 ? trainPipelined(n, loss) : trainInPhases(n, loss);
}

}  // namespace dtlns
