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
  sampleSlots_.resize(3 * n);
  size_t k = 0;
  auto slot = [&](uint32_t node) {
    uint32_t& s = slotOf_[node];
    if (s == kNoSlot) {
      s = uint32_t(rows_.size());
      rows_.push_back(node);
      occurrences_.push_back(0);
      firstSample_.push_back(k);
    }
    ++occurrences_[s];
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
  }
}

void MfAdamTrainer::releaseSlots() {
  for (uint32_t r : rows_) slotOf_[r] = kNoSlot;
}

// x = s_uj - s_ui; dL/dx = sigmoid(x) / n; the loss terms.
void MfAdamTrainer::scoreSamples(size_t n) {
  const size_t dim = m_.dim;
  coefficient_.resize(n);
  bprTerm_.resize(n);
  normTerm_.resize(n);
  // Five dot products per sample, on three rows scattered over a table larger than L2.
  parallelFor(threadsFor(threads_, 16.0 * double(n * dim)), int64_t(n), [&](int64_t begin, int64_t end, int) {
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
  });
}

// dL/du = g (j - i), dL/di = -g u, dL/dj = g u per sample, each row summed in
// sample order by its owner thread (slot % owners). A row's first term (in the
// sample that gave it its slot) is stored, the others added: no zeroing pass.
void MfAdamTrainer::accumulateGradients(size_t n) {
  const size_t dim = m_.dim, slots = rows_.size();
  grad_.resize(slots * dim);
  const int64_t owners = threadsFor(threads_, 3.0 * double(n * dim));
  parallelFor(int(owners), owners, [&](int64_t first, int64_t last, int) {
    for (int64_t owner = first; owner < last; ++owner) {
      auto owns = [&](uint32_t s) { return int64_t(s % uint64_t(owners)) == owner; };
      for (size_t k = 0; k < n; ++k) {
        if (k + kPrefetchSamples < n) {
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
  });
}

MfAdamTrainer::Outcome MfAdamTrainer::train(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n,
                                            Loss& loss) {
  assignSlots(users, pos, neg, n);
  struct Release {
    MfAdamTrainer* self;
    ~Release() { self->releaseSlots(); }
  } release{this};
  const size_t table = rows_.size() * m_.dim;
  current_.resize(3 * table);
  const RowView current{current_.data(), current_.data() + table, current_.data() + 2 * table};
  if (!adam_.readCaughtUp(rows_, current, threads_)) return Outcome::BadCatchUp;

  scoreSamples(n);
  loss = Loss{};
  for (size_t k = 0; k < n; ++k) {
    loss.bpr += bprTerm_[k];
    loss.reg += normTerm_[k];
  }
  loss.reg *= 0.5 * double(l2_);
  if (!std::isfinite(loss.bpr + loss.reg)) return Outcome::BadLoss;

  accumulateGradients(n);
  // L2: l2 e / n per use of the row.
  const size_t dim = m_.dim, slots = rows_.size();
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

}  // namespace dtlns
