#include "kernels/train.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "kernels/deferred_adam.hpp"
#include "kernels/mf_adam.hpp"
#include "kernels/lightgcn.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void failFit(const char* what, size_t epochStep, uint64_t adamStep) {
  throw ModelFitError(std::string("ModelFitError: ") + what + " became non-finite at epoch step " +
                      std::to_string(epochStep) + " (Adam step " + std::to_string(adamStep) + ")");
}

// Sums over the samples of one batch: softplus terms and l2/2 squared norms.
struct BatchLoss {
  double bpr = 0, reg = 0;
  uint64_t samples = 0;
};

// Means over optimizer steps of each batch's mean loss.
struct LossMeans {
  double bpr = 0, reg = 0;
  uint64_t steps = 0, samples = 0;
  void add(const BatchLoss& b) {
    bpr += b.bpr / double(b.samples);
    reg += b.reg / double(b.samples);
    samples += b.samples;
    ++steps;
  }
  TrainStats stats(uint64_t skipped, uint64_t stepBefore, Clock::time_point start) const {
    TrainStats s;
    s.bprLoss = steps ? bpr / double(steps) : 0;
    s.regLoss = steps ? reg / double(steps) : 0;
    s.loss = s.bprLoss + s.regLoss;
    s.samples = samples;
    s.skipped = skipped;
    s.steps = steps;
    s.step = stepBefore + steps;
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return s;
  }
};

inline float dot(const float* a, const float* b, size_t dim) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (size_t d = 0; d < dim; ++d) s += a[d] * b[d];
  return s;
}

// The model's tables staged in huge pages (see memory.hpp) for one call.
class StagedModel {
 public:
  explicit StagedModel(const ModelTables& m)
      : userEmb_(m.userEmb, size_t(m.nUsers) * m.dim), itemEmb_(m.itemEmb, size_t(m.nItems) * m.dim),
        userM_(m.userM, size_t(m.nUsers) * m.dim), userV_(m.userV, size_t(m.nUsers) * m.dim),
        itemM_(m.itemM, size_t(m.nItems) * m.dim), itemV_(m.itemV, size_t(m.nItems) * m.dim), tables_(m) {
    tables_.userEmb = userEmb_.data();
    tables_.itemEmb = itemEmb_.data();
    tables_.userM = userM_.data();
    tables_.userV = userV_.data();
    tables_.itemM = itemM_.data();
    tables_.itemV = itemV_.data();
  }
  const ModelTables& tables() const { return tables_; }
  void writeBack() const {
    for (const HugePageCopy* c : {&userEmb_, &itemEmb_, &userM_, &userV_, &itemM_, &itemV_}) c->writeBack();
  }

 private:
  HugePageCopy userEmb_, itemEmb_, userM_, userV_, itemM_, itemV_;
  ModelTables tables_;
};

// ---------------------------------------------------------------- mini-batch

class BatchTrainer {
 public:
  BatchTrainer(const ModelTables& model, const PositiveSets& train, const TrainConfig& config)
      : m_(model), c_(config), layers_(config.effectiveLayers()) {
    if (layers_ > 0) adjacency_ = buildNormalizedAdjacency(train);
    propagation_ = std::make_unique<Propagation>(layers_ > 0 ? &adjacency_ : nullptr, model.nUsers, model.nItems,
                                                 layers_, model.dim);
    occurrences_.assign(size_t(model.nUsers) + model.nItems, 0);
    visited_.assign(size_t(model.nUsers) + model.nItems, 0);
    carriesGradient_.assign(size_t(model.nUsers) + model.nItems, 0);
  }

  // One optimizer step with Adam step t on n >= 1 positives (users[k], pos[k])
  // and their negative draws; weights: each positive's loss weight (null: 1).
  BatchLoss step(const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, const float* weights, size_t n,
                 uint64_t t, size_t epochStep) {
    if (!weights && runsMfAdam(t)) return mfAdamStep(users, pos, draws.candidates, n, t, epochStep);
    const size_t dim = m_.dim;
    const uint32_t nU = m_.nUsers;
    const int threads = c_.threads;
    const SamplerConfig& sampler = c_.sampler;
    const size_t K = size_t(sampler.k), C = sampler.candidates(), L1 = size_t(layers_) + 1;
    const bool scores = sampler.scores(), mixes = sampler.mixes();
    Propagation& prop = *propagation_;
    const NodeRows e0{m_.userEmb, m_.itemEmb, nU, dim};

    // Forward on the users, positives and every candidate. L2 counts each
    // occurrence of a user, positive and trained-on negative (mixed negatives
    // carry their own L2 term, on the mixed layer-0 row, below).
    targets_.clear();
    auto visit = [&](uint32_t node, uint32_t weight) {
      if (!visited_[node]) {
        visited_[node] = 1;
        targets_.push_back(node);
      }
      occurrences_[node] += weight;
    };
    for (size_t k = 0; k < n; ++k) {
      visit(users[k], 1);
      visit(nU + pos[k], 1);
      for (size_t c = 0; c < K * C; ++c) visit(nU + draws.candidates[k * K * C + c], scores ? 0 : 1);
    }
    // Deferred dense Adam: the rows read below must hold their values at step t - 1.
    if (defersAdam(t) && !deferred_->catchUp(targets_, threads)) failFit("a parameter", epochStep, t - 1);
    prop.forward(e0, targets_, threads);
    if (scores) {
      mineNegatives(sampler, prop, users, pos, draws, n, threads, false, mined_);
      if (!mixes)
        for (size_t g = 0; g < n * K; ++g) ++occurrences_[nU + mined_.items[g * L1]];
      // Only the users, positives and chosen negatives carry gradient, not every candidate.
      lossRows_.clear();
      auto carries = [&](uint32_t node) {
        if (!carriesGradient_[node]) {
          carriesGradient_[node] = 1;
          lossRows_.push_back(node);
        }
      };
      for (size_t k = 0; k < n; ++k) {
        carries(users[k]);
        carries(nU + pos[k]);
        for (size_t x = k * K * L1; x < (k + 1) * K * L1; ++x) carries(nU + mined_.items[x]);
      }
      for (uint32_t r : lossRows_) carriesGradient_[r] = 0;
      prop.restrictGradients(lossRows_, mixes);
    }
    // Negative s of sample k: its item (rns, pop, dns), final row and layer-0 row.
    auto negItem = [&](size_t k, size_t s) {
      return nU + (scores ? mined_.items[(k * K + s) * L1] : draws.candidates[k * K + s]);
    };
    auto negFinal = [&](size_t k, size_t s) {
      return mixes ? mined_.pooled.data() + (k * K + s) * dim : prop.finalRow(negItem(k, s));
    };
    // The mixed layer-0 row of a mixing negative: alpha_0 e_i + (1 - alpha_0) e_c0.
    auto mixedLayer0 = [&](size_t k, size_t s, float* out) {
      const float a = draws.alphas[(k * K + s) * L1];
      const float* ei = e0.row(nU + pos[k]);
      const float* ec = e0.row(nU + mined_.items[(k * K + s) * L1]);
      for (size_t d = 0; d < dim; ++d) out[d] = a * ei[d] + (1.f - a) * ec[d];
    };

    // Scores from the final embeddings, x_s = s_us - s_ui. K = 1: dL/dx =
    // sigmoid(x) / B; K > 1: the K-pair loss log(1 + Σ_s e^x_s), dL/dx_s = its softmax / B.
    // A weighted positive scales its loss term and so its coefficients (L2 is not weighted).
    coefficient_.resize(n * K);
    bprTerm_.resize(n);
    normTerm_.resize(n);
    parallelFor(threadsFor(threads, double((3 + 2 * K) * n * dim)), int64_t(n), [&](int64_t begin, int64_t end, int) {
      std::vector<float> x(K), mixed(dim);
      for (int64_t k = begin; k < end; ++k) {
        const float* fu = prop.finalRow(users[k]);
        const float si = dot(fu, prop.finalRow(nU + pos[k]), dim);
        const float* u0 = e0.row(users[k]);
        const float* i0 = e0.row(nU + pos[k]);
        float norms = dot(u0, u0, dim) + dot(i0, i0, dim);
        for (size_t s = 0; s < K; ++s) {
          x[s] = dot(fu, negFinal(size_t(k), s), dim) - si;
          const float* j0 = e0.row(negItem(size_t(k), s));
          if (mixes) {
            mixedLayer0(size_t(k), s, mixed.data());
            j0 = mixed.data();
          }
          norms += dot(j0, j0, dim);
        }
        float* coef = coefficient_.data() + size_t(k) * K;
        if (K == 1) {
          coef[0] = sigmoid(x[0]) / float(n);
          bprTerm_[k] = softplus(x[0]);
        } else {
          const float top = std::max(0.f, *std::max_element(x.begin(), x.end()));
          float total = std::exp(-top);
          for (size_t s = 0; s < K; ++s) total += std::exp(x[s] - top);
          for (size_t s = 0; s < K; ++s) coef[s] = std::exp(x[s] - top) / total / float(n);
          bprTerm_[k] = top + std::log(total);
        }
        if (weights) {
          for (size_t s = 0; s < K; ++s) coef[s] *= weights[k];
          bprTerm_[k] *= weights[k];
        }
        normTerm_[k] = norms;
      }
    });
    BatchLoss loss;
    for (size_t k = 0; k < n; ++k) {
      loss.bpr += bprTerm_[k];
      loss.reg += normTerm_[k];
    }
    loss.reg *= 0.5 * double(c_.l2);
    loss.samples = n;
    if (!std::isfinite(loss.bpr + loss.reg)) failFit("the loss", epochStep, t);

    // dL/dF (and dL/dE^l for mixed negatives): each row is owned by one thread
    // (node % threads) and summed in sample order, so the sums do not depend
    // on the thread count.
    const float regScale = c_.l2 / float(n);
    const double gradWork = double(n * dim) * double(2 + K * (mixes ? 2 * L1 + 2 : 1));
    const int64_t owners = threadsFor(threads, gradWork);
    parallelFor(int(owners), owners, [&](int64_t first, int64_t last, int) {
      std::vector<float> mixed(dim);
      for (int64_t owner = first; owner < last; ++owner) {
        auto owns = [&](uint32_t node) { return int64_t(node % owners) == owner; };
        for (size_t k = 0; k < n; ++k) {
          const uint32_t u = users[k], i = nU + pos[k];
          const float* fu = prop.finalRow(u);
          const float* coef = coefficient_.data() + k * K;
          if (owns(u)) {
            float* d = prop.finalGradRow(u);
            const float* fi = prop.finalRow(i);
            for (size_t s = 0; s < K; ++s) {
              const float g = coef[s];
              const float* fj = negFinal(k, s);
#pragma omp simd
              for (size_t x = 0; x < dim; ++x) d[x] += g * (fj[x] - fi[x]);
            }
          }
          if (owns(i)) {
            float* d = prop.finalGradRow(i);
            for (size_t s = 0; s < K; ++s) {
              const float g = coef[s];
#pragma omp simd
              for (size_t x = 0; x < dim; ++x) d[x] += -g * fu[x];
            }
          }
          for (size_t s = 0; s < K; ++s) {
            const float g = coef[s];
            if (!mixes) {
              const uint32_t j = negItem(k, s);
              if (owns(j)) {
                float* d = prop.finalGradRow(j);
#pragma omp simd
                for (size_t x = 0; x < dim; ++x) d[x] += g * fu[x];
              }
              continue;
            }
            // Through the mixing: d ẽ^l / d E^l_i = alpha_l, d ẽ^l / d E^l_c = 1 - alpha_l.
            const size_t group = k * K + s;
            for (size_t l = 0; l < L1; ++l) {
              const float a = draws.alphas[group * L1 + l];
              const uint32_t c = nU + mined_.items[group * L1 + l];
              const float w = g / float(L1);
              if (owns(i)) {
                float* d = prop.layerGradRow(int(l), i);
#pragma omp simd
                for (size_t x = 0; x < dim; ++x) d[x] += w * a * fu[x];
              }
              if (owns(c)) {
                float* d = prop.layerGradRow(int(l), c);
#pragma omp simd
                for (size_t x = 0; x < dim; ++x) d[x] += w * (1.f - a) * fu[x];
              }
            }
            // L2 on the mixed layer-0 row.
            const uint32_t c0 = nU + mined_.items[group * L1];
            if (owns(i) || owns(c0)) {
              const float a = draws.alphas[group * L1];
              mixedLayer0(k, s, mixed.data());
              if (owns(i)) {
                float* d = prop.layerGradRow(0, i);
                for (size_t x = 0; x < dim; ++x) d[x] += regScale * a * mixed[x];
              }
              if (owns(c0)) {
                float* d = prop.layerGradRow(0, c0);
                for (size_t x = 0; x < dim; ++x) d[x] += regScale * (1.f - a) * mixed[x];
              }
            }
          }
        }
      }
    });
    prop.backward(threads);

    // L2 on the layer-0 rows, l2 * e / B per occurrence.
    parallelFor(threadsFor(threads, double(targets_.size() * dim)), int64_t(targets_.size()),
                [&](int64_t begin, int64_t end, int) {
      for (int64_t k = begin; k < end; ++k) {
        const uint32_t r = targets_[size_t(k)];
        if (occurrences_[r] == 0) continue;
        const float w = regScale * float(occurrences_[r]);
        float* g = prop.gradRow(r);
        const float* e = e0.row(r);
#pragma omp simd
        for (size_t x = 0; x < dim; ++x) g[x] += w * e[x];
      }
    });
    for (uint32_t r : targets_) {
      occurrences_[r] = 0;
      visited_[r] = 0;
    }

    if (!applyOptimizer(t)) failFit("a parameter", epochStep, t);
    return loss;
  }

  // Brings every row deferred by dense Adam up to the last step; false when
  // one of them is not finite. Call before the tables are handed back.
  bool finishDeferredAdam() {
    if (mfAdam_) return mfAdam_->finish();
    return !deferred_ || deferred_->flush(c_.threads);
  }

 private:
  const ModelTables& m_;
  const TrainConfig& c_;
  int layers_;
  NormalizedAdjacency adjacency_;
  std::unique_ptr<Propagation> propagation_;
  std::vector<uint32_t> occurrences_;  // per node, in this batch
  std::vector<uint8_t> visited_;       // per node: a target of this batch
  std::vector<uint32_t> targets_;
  std::vector<uint8_t> carriesGradient_;
  std::vector<uint32_t> lossRows_;  // scoring samplers: the targets the loss depends on
  std::vector<float> coefficient_, bprTerm_, normTerm_;
  MinedNegatives mined_;
  // Dense Adam for MF: only rows with a gradient are updated each step, the
  // others catch up in closed form when next read (kernels/deferred_adam.hpp).
  std::unique_ptr<DeferredAdam> deferred_;
  std::vector<const float*> gradRows_;

  NodeParams params() const {
    return NodeParams{ParamTable{m_.userEmb, m_.userM, m_.userV, m_.nUsers},
                      ParamTable{m_.itemEmb, m_.itemM, m_.itemV, m_.nItems}, m_.dim};
  }

  // MF with dense Adam and one rns / pop negative: the same step on the batch's
  // rows only (kernels/mf_adam.hpp). The first such step starts it.
  std::unique_ptr<MfAdamTrainer> mfAdam_;

  bool runsMfAdam(uint64_t t) {
    if (!mfAdam_ && !deferred_ && MfAdamTrainer::runs(c_)) mfAdam_ = std::make_unique<MfAdamTrainer>(m_, c_, t - 1);
    return mfAdam_ != nullptr;
  }

  BatchLoss mfAdamStep(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n, uint64_t t,
                       size_t epochStep) {
    MfAdamTrainer::Loss sums;
    switch (mfAdam_->train(users, pos, neg, n, sums)) {
      case MfAdamTrainer::Outcome::BadCatchUp: failFit("a parameter", epochStep, t - 1);
      case MfAdamTrainer::Outcome::BadLoss: failFit("the loss", epochStep, t);
      case MfAdamTrainer::Outcome::BadUpdate: failFit("a parameter", epochStep, t);
      case MfAdamTrainer::Outcome::Ok: break;
    }
    BatchLoss loss;
    loss.bpr = sums.bpr;
    loss.reg = sums.reg;
    loss.samples = n;
    return loss;
  }

  // Whether step t defers dense Adam (MF with the other samplers); the first such step starts the deferral.
  bool defersAdam(uint64_t t) {
    if (!deferred_ && layers_ == 0 && c_.optimizer.kind == Optimizer::Adam && c_.deferAdam &&
        DeferredAdam::supports(c_.optimizer))
      deferred_ = std::make_unique<DeferredAdam>(params(), c_.optimizer, t - 1);
    return deferred_ != nullptr;
  }

  bool applyOptimizer(uint64_t t) {
    const AdamStep a(c_.optimizer, t);
    const Propagation& prop = *propagation_;
    if (deferred_) {
      const std::vector<uint32_t>& rows = prop.gradientRows();
      gradRows_.resize(rows.size());
      for (size_t k = 0; k < rows.size(); ++k) gradRows_[k] = prop.gradient() + size_t(rows[k]) * m_.dim;
      return deferred_->update(rows, gradRows_.data(), nullptr, nullptr, c_.threads);
    }
    if (c_.optimizer.kind == Optimizer::Adam)
      return denseAdam(params(), prop.gradient(), prop.gradientFlags(), a, c_.threads);
    const std::vector<uint32_t>& rows = prop.gradientRows();
    return sparseUpdate(params(), prop.gradient(), rows.data(), rows.size(), c_.optimizer, a, c_.threads);
  }
};

TrainStats batchEpoch(const ModelTables& original, const PositiveSets& train, const TrainConfig& config,
                      uint64_t step) {
  const auto start = Clock::now();
  const StagedModel staged(original);
  const EpochPlan plan = planEpoch(train, config.seed, config.batch, config.sampler.positives, config.positiveWeights);
  const Sampler sampler(config.sampler, train);
  BatchTrainer trainer(staged.tables(), train, config);
  BatchDraws draws;
  LossMeans means;
  try {
    for (size_t b = 0; b < plan.nBatches; ++b) {
      draws.draw(plan, config.rejection(train), sampler, config.effectiveLayers(), b, config.threads);
      if (draws.size() == 0) continue;
      means.add(trainer.step(draws.users.data(), draws.pos.data(), draws.view(), draws.weightsOrNull(), draws.size(),
                             step + means.steps + 1, b));
    }
  } catch (...) {
    trainer.finishDeferredAdam();
    staged.writeBack();  // the caller sees the state at the failure
    throw;
  }
  const bool finite = trainer.finishDeferredAdam();
  staged.writeBack();
  if (!finite) failFit("a parameter", plan.nBatches, step + means.steps);
  return means.stats(draws.skipped, step, start);
}

// ------------------------------------------------------------------ Hogwild

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

TrainStats hogwildEpoch(const ModelTables& original, const PositiveSets& train, const TrainConfig& config,
                        uint64_t step) {
  const auto start = Clock::now();
  const StagedModel staged(original);
  const ModelTables& model = staged.tables();
  const EpochPlan plan = planEpoch(train, config.seed, config.batch, config.sampler.positives);
  const Sampler sampler(config.sampler, train);
  const PositiveSets& nonNegatives = config.rejection(train);
  const size_t nBatches = plan.nBatches;
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
    std::vector<uint32_t> negatives(kSampleChunk);
    for (int64_t slot = firstSlot; slot < lastSlot; ++slot) {
      for (size_t b = 0; b < nBatches && !failure.failedBy(int64_t(b)); ++b) {
        const size_t chunks = (plan.batchEnd(b) - plan.batchBegin(b) + kSampleChunk - 1) / kSampleChunk;
        const size_t c0 = chunks * size_t(slot) / size_t(slots), c1 = chunks * size_t(slot + 1) / size_t(slots);
        const AdamStep a(config.optimizer, step + stepsBefore[b] + 1);
        for (size_t c = c0; c < c1; ++c) {
          drawChunkNegatives(plan, nonNegatives, b, c, negatives.data(), sampler.popularity());
          const size_t begin = plan.chunkBegin(b, c);
          const SampleResult r =
              hogwildRange(model, config, a, plan.users.data() + begin, plan.items.data() + begin, negatives.data(),
                           plan.chunkEnd(b, c) - begin, losses[size_t(slot) * nBatches + b], skipped[size_t(slot)]);
          if (r != SampleResult::Ok) {
            failure.record(int64_t(b), r);
            break;
          }
        }
      }
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

}  // namespace

TrainStats trainEpoch(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step) {
  return config.hogwild() ? hogwildEpoch(model, train, config, step) : batchEpoch(model, train, config, step);
}

TrainStats trainStep(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step,
                     const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, size_t n,
                     const float* weights) {
  const auto start = Clock::now();
  LossMeans means;
  if (!config.hogwild() || weights) {
    BatchTrainer trainer(model, train, config);
    try {
      means.add(trainer.step(users, pos, draws, weights, n, step + 1, 0));
    } catch (...) {
      trainer.finishDeferredAdam();
      throw;
    }
    if (!trainer.finishDeferredAdam()) failFit("a parameter", 0, step + 1);
    return means.stats(0, step, start);
  }
  const uint32_t* neg = draws.candidates;  // rns / pop: one negative per positive
  const AdamStep a(config.optimizer, step + 1);
  const int slots = int(std::max<int64_t>(1, std::min<int64_t>(config.threads, int64_t(n))));
  std::vector<BatchLoss> losses(static_cast<size_t>(slots));
  std::vector<uint64_t> skipped(size_t(slots), 0);
  FailureRecord failure;
  parallelFor(slots, slots, [&](int64_t firstSlot, int64_t lastSlot, int) {
    for (int64_t slot = firstSlot; slot < lastSlot; ++slot) {
      const size_t begin = n * size_t(slot) / size_t(slots), end = n * size_t(slot + 1) / size_t(slots);
      const SampleResult r = hogwildRange(model, config, a, users + begin, pos + begin, neg + begin, end - begin,
                                          losses[size_t(slot)], skipped[size_t(slot)]);
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

void propagateFinal(const float* userEmb, const float* itemEmb, uint32_t nUsers, uint32_t nItems, size_t dim,
                    const PositiveSets& train, int layers, int threads, float* outUsers, float* outItems) {
  NormalizedAdjacency adjacency;
  if (layers > 0) adjacency = buildNormalizedAdjacency(train);
  Propagation prop(layers > 0 ? &adjacency : nullptr, nUsers, nItems, layers, dim);
  prop.forwardAll(NodeRows{userEmb, itemEmb, nUsers, dim}, threads);
  std::copy(prop.finalRow(0), prop.finalRow(0) + size_t(nUsers) * dim, outUsers);
  std::copy(prop.finalRow(nUsers), prop.finalRow(nUsers) + size_t(nItems) * dim, outItems);
}

SampledTriples sampleUniformEpoch(const PositiveSets& train, uint64_t seed, size_t batch, int threads) {
  return sampleEpochNegatives(train, train, Sampler(SamplerConfig{}, train), seed, batch, threads);
}

}  // namespace dtlns
