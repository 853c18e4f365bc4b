// The mini-batch path of kernels/train.hpp: per batch a forward pass, the sampler
// rule's choice of negatives, the mean loss, one backward pass into one gradient
// table and one optimizer pass.
#include "kernels/minibatch.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/deferred_adam.hpp"
#include "kernels/dot.hpp"
#include "kernels/lightgcn.hpp"
#include "kernels/mf_adam.hpp"
#include "kernels/negative_rule.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"
#include "kernels/train_common.hpp"

namespace dtlns {
namespace {

class BatchTrainer {
 public:
  // model: its rows staged in order's ids (empty: the original ones); adjacency: over those ids.
  BatchTrainer(const ModelTables& model, const TrainConfig& config, NormalizedAdjacency adjacency, NodeOrder order)
      : m_(model), c_(config), layers_(config.effectiveLayers()), adjacency_(std::move(adjacency)),
        order_(std::move(order)) {
    propagation_ = std::make_unique<Propagation>(layers_ > 0 ? &adjacency_ : nullptr, model.nUsers, model.nItems,
                                                 layers_, model.dim);
    occurrences_.assign(size_t(model.nUsers) + model.nItems, 0);
    visited_.assign(size_t(model.nUsers) + model.nItems, 0);
    rule_ = makeNegativeRule(config.sampler);
  }

  // One optimizer step with Adam step t on n >= 1 positives (users[k], pos[k])
  // and their negative draws; weights: each positive's loss weight (null: 1).
  // What the sampler kind does (its L2 occurrences, its choice, its negatives'
  // rows and gradient) is its NegativeRule's (kernels/negative_rule.hpp).
  BatchLoss step(const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, const float* weights, size_t n,
                 uint64_t t, size_t epochStep) {
    if (!weights && runsMfAdam(t)) return mfAdamStep(users, pos, draws.candidates, n, t, epochStep);
    if (order_.empty()) return nodeStep(users, pos, draws, weights, n, t, epochStep);
    // The batch in the relabelled ids.
    const size_t drawn = n * size_t(c_.sampler.k) * c_.sampler.candidates();
    users_.resize(n);
    pos_.resize(n);
    candidates_.resize(drawn);
    for (size_t k = 0; k < n; ++k) {
      users_[k] = order_.userId[users[k]];
      pos_[k] = order_.itemId[pos[k]];
    }
    for (size_t c = 0; c < drawn; ++c) candidates_[c] = order_.itemId[draws.candidates[c]];
    NegativeDraws relabelled = draws;
    relabelled.candidates = candidates_.data();
    return nodeStep(users_.data(), pos_.data(), relabelled, weights, n, t, epochStep);
  }

  // Brings every row deferred by dense Adam up to the last step; false when
  // one of them is not finite. Call before the tables are handed back.
  bool finishDeferredAdam() {
    if (mfAdam_) return mfAdam_->finish();
    return !deferred_ || deferred_->flush(c_.threads);
  }

 private:
  // step() in the propagation's node ids.
  BatchLoss nodeStep(const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, const float* weights,
                     size_t n, uint64_t t, size_t epochStep) {
    const size_t dim = m_.dim;
    const uint32_t nU = m_.nUsers;
    const int threads = c_.threads;
    const size_t K = size_t(c_.sampler.k), C = c_.sampler.candidates(), L1 = size_t(layers_) + 1;
    Propagation& prop = *propagation_;
    NegativeRule& rule = *rule_;
    const NodeRows e0{m_.userEmb, m_.itemEmb, nU, dim};

    // Forward on the users, positives and every candidate. L2 counts each
    // occurrence of a user, positive and trained-on negative.
    targets_.clear();
    auto visit = [&](uint32_t node, uint32_t weight) {
      if (!visited_[node]) {
        visited_[node] = 1;
        targets_.push_back(node);
      }
      occurrences_[node] += weight;
    };
    const uint32_t candidateWeight = rule.candidateOccurrences();
    for (size_t k = 0; k < n; ++k) {
      visit(users[k], 1);
      visit(nU + pos[k], 1);
    }
    // The users and positives lead the targets, so a rule that reads no
    // candidate's final row gets the final rows of these alone.
    const size_t finals = rule.readsCandidateFinals() ? SIZE_MAX : targets_.size();
    for (size_t c = 0; c < n * K * C; ++c) visit(nU + draws.candidates[c], candidateWeight);
    // Deferred dense Adam: the rows read below must hold their values at step t - 1.
    if (defersAdam(t) && !deferred_->catchUp(targets_, threads)) failFit("a parameter", epochStep, t - 1);
    prop.forward(e0, targets_, threads, finals);
    const uint32_t* originalNode = order_.empty() ? nullptr : adjacency_.originalNode.data();
    rule.choose(StepBatch{&prop, users, pos, draws, n, originalNode}, threads, occurrences_.data(), prop);

    // Scores from the final embeddings, x_s = s_us - s_ui. K = 1: dL/dx =
    // sigmoid(x) / B; K > 1: the K-pair loss log(1 + Σ_s e^x_s), dL/dx_s = its softmax / B.
    // A weighted positive scales its loss term and so its coefficients (L2 is not weighted).
    coefficient_.resize(n * K);
    bprTerm_.resize(n);
    normTerm_.resize(n);
    parallelFor(threadsFor(threads, double((3 + 2 * K) * n * dim)), int64_t(n), [&](int64_t begin, int64_t end, int) {
      std::vector<float> x(K), scratch(dim);
      // A sample's rows lie scattered: fetch them a few samples ahead.
      constexpr int64_t kAhead = 4;
      auto prefetchSample = [&](int64_t k) {
        const uint32_t u = users[k], i = nU + pos[k];
        for (const float* row : {prop.finalRow(u), prop.finalRow(i), e0.row(u), e0.row(i)}) prefetchRow(row, dim, false);
        for (size_t s = 0; s < K; ++s) prefetchRow(rule.finalRow(size_t(k), s), dim, false);
      };
      for (int64_t k = begin; k < std::min(end, begin + kAhead); ++k) prefetchSample(k);
      for (int64_t k = begin; k < end; ++k) {
        if (k + kAhead < end) prefetchSample(k + kAhead);
        const float* fu = prop.finalRow(users[k]);
        const float si = dot(fu, prop.finalRow(nU + pos[k]), dim);
        const float* u0 = e0.row(users[k]);
        const float* i0 = e0.row(nU + pos[k]);
        float norms = dot(u0, u0, dim) + dot(i0, i0, dim);
        for (size_t s = 0; s < K; ++s) {
          x[s] = dot(fu, rule.finalRow(size_t(k), s), dim) - si;
          norms += rule.layer0Norm(size_t(k), s, scratch.data());
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

    // dL/dF (and the rule's own rows, e.g. dL/dE^l of mixed negatives): each row is
    // owned by one thread (node % threads) and summed in sample order, so the sums do
    // not depend on the thread count.
    const float regScale = c_.l2 / float(n);
    const double gradWork = double(n * dim) * (2.0 + double(K) * rule.gradientRows(L1));
    const int64_t owners = threadsFor(threads, gradWork);
    parallelFor(int(owners), owners, [&](int64_t first, int64_t last, int) {
      std::vector<float> scratch(dim);
      for (int64_t o = first; o < last; ++o) {
        const RowOwner owner{o, owners};
        for (size_t k = 0; k < n; ++k) {
          const uint32_t u = users[k], i = nU + pos[k];
          const float* fu = prop.finalRow(u);
          const float* coef = coefficient_.data() + k * K;
          if (owner.owns(u)) {
            float* d = prop.finalGradRow(u);
            const float* fi = prop.finalRow(i);
            for (size_t s = 0; s < K; ++s) {
              const float g = coef[s];
              const float* fj = rule.finalRow(k, s);
#pragma omp simd
              for (size_t x = 0; x < dim; ++x) d[x] += g * (fj[x] - fi[x]);
            }
          }
          if (owner.owns(i)) {
            float* d = prop.finalGradRow(i);
            for (size_t s = 0; s < K; ++s) {
              const float g = coef[s];
#pragma omp simd
              for (size_t x = 0; x < dim; ++x) d[x] += -g * fu[x];
            }
          }
          for (size_t s = 0; s < K; ++s) rule.addGradient(k, s, coef[s], fu, regScale, owner, prop, scratch.data());
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

  const ModelTables& m_;
  const TrainConfig& c_;
  int layers_;
  NormalizedAdjacency adjacency_;
  NodeOrder order_;
  std::vector<uint32_t> users_, pos_, candidates_;  // the batch in order_'s ids
  std::unique_ptr<Propagation> propagation_;
  CachedVector<uint32_t> occurrences_;  // per node, in this batch
  CachedVector<uint8_t> visited_;     // per node: a target of this batch
  std::vector<uint32_t> targets_;
  std::unique_ptr<NegativeRule> rule_;
  std::vector<float> coefficient_, bprTerm_, normTerm_;
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

}  // namespace

TrainStats minibatchEpoch(const ModelTables& original, const PositiveSets& train, const TrainConfig& config,
                      uint64_t step) {
  const auto start = Clock::now();
  // LightGCN's nodes relabelled for locality, the staged rows with them.
  NormalizedAdjacency adjacency;
  NodeOrder order;
  if (config.effectiveLayers() > 0) {
    adjacency = buildNormalizedAdjacency(train);
    order = breadthFirstOrder(adjacency);
    adjacency = relabel(adjacency, order);
  }
  const StagedModel staged(original, config.optimizer, order.empty() ? nullptr : order.userId.data(),
                           order.empty() ? nullptr : order.itemId.data());
  const EpochPlan plan = planEpoch(train, config.seed, config.batch, config.sampler.positives, config.positiveWeights);
  const Sampler sampler(config.sampler, train);
  BatchTrainer trainer(staged.tables(), config, std::move(adjacency), std::move(order));
  const PairFilter filter(config.rejection(train));
  const PositiveSets nonNegatives = config.rejection(train).filteredBy(filter);
  // Batches are drawn kDrawAhead at a time: drawn back to back, the draws keep
  // the positives and the filter in cache; between training steps they missed.
  constexpr size_t kDrawAhead = 8;
  std::vector<BatchDraws> window(std::min(kDrawAhead, plan.nBatches));
  LossMeans means;
  try {
    for (size_t b = 0; b < plan.nBatches; ++b) {
      if (b % kDrawAhead == 0)
        for (size_t a = b; a < std::min(plan.nBatches, b + kDrawAhead); ++a)
          window[a - b].draw(plan, nonNegatives, sampler, config.effectiveLayers(), a, config.threads);
      const BatchDraws& draws = window[b % kDrawAhead];
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
  uint64_t skipped = 0;
  for (const BatchDraws& d : window) skipped += d.skipped;
  return means.stats(skipped, step, start);
}


TrainStats minibatchStep(const ModelTables& model, const PositiveSets& train, const TrainConfig& config, uint64_t step,
                         const uint32_t* users, const uint32_t* pos, const NegativeDraws& draws, size_t n,
                         const float* weights) {
  const auto start = Clock::now();
  LossMeans means;
  const bool layers = config.effectiveLayers() > 0;
  BatchTrainer trainer(model, config, layers ? buildNormalizedAdjacency(train) : NormalizedAdjacency{}, NodeOrder{});
  try {
    means.add(trainer.step(users, pos, draws, weights, n, step + 1, 0));
  } catch (...) {
    trainer.finishDeferredAdam();
    throw;
  }
  if (!trainer.finishDeferredAdam()) failFit("a parameter", 0, step + 1);
  return means.stats(0, step, start);
}

}  // namespace dtlns
