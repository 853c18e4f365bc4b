// What the training paths share: the loss sums of a batch, their means over an
// epoch, the ModelFitError they throw, and the model staged in huge pages.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "kernels/memory.hpp"
#include "kernels/train.hpp"

namespace dtlns {

using Clock = std::chrono::steady_clock;

[[noreturn]] inline void failFit(const char* what, size_t epochStep, uint64_t adamStep) {
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

// The model's tables staged in huge pages (see memory.hpp) for one call; Adam's
// moments only when the optimizer reads them (SGD leaves them in place, untouched).
class StagedModel {
 public:
  // userRow / itemRow: where each user's and item's rows are staged (null: in place).
  StagedModel(const ModelTables& m, const OptimizerConfig& optimizer, const uint32_t* userRow = nullptr,
              const uint32_t* itemRow = nullptr)
      : StagedModel(m, size_t(m.nUsers) * m.dim, size_t(m.nItems) * m.dim, optimizer.kind != Optimizer::Sgd, userRow,
                    itemRow) {}
  const ModelTables& tables() const { return tables_; }
  void writeBack() const {
    for (const HugePageCopy* c : {&userEmb_, &itemEmb_, &userM_, &userV_, &itemM_, &itemV_}) c->writeBack();
  }

 private:
  StagedModel(const ModelTables& m, size_t users, size_t items, bool moments, const uint32_t* userRow,
              const uint32_t* itemRow)
      : userEmb_(m.userEmb, users, userRow, m.dim), itemEmb_(m.itemEmb, items, itemRow, m.dim),
        userM_(m.userM, moments ? users : 0, userRow, m.dim), userV_(m.userV, moments ? users : 0, userRow, m.dim),
        itemM_(m.itemM, moments ? items : 0, itemRow, m.dim), itemV_(m.itemV, moments ? items : 0, itemRow, m.dim),
        tables_(m) {
    tables_.userEmb = userEmb_.data();
    tables_.itemEmb = itemEmb_.data();
    tables_.userM = userM_.data();
    tables_.userV = userV_.data();
    tables_.itemM = itemM_.data();
    tables_.itemV = itemV_.data();
  }
  HugePageCopy userEmb_, itemEmb_, userM_, userV_, itemM_, itemV_;
  ModelTables tables_;
};

}  // namespace dtlns
