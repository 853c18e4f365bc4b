// The mini-batch step of MF (0 layers) with one negative per positive (rns,
// pop), BPR loss, L2 on the batch's rows and dense Adam: the step of the
// general mini-batch trainer (minibatch.cpp), with Adam deferred
// (kernels/deferred_adam.hpp) and every pass over the batch's rows only:
//   1. the batch's distinct rows, in order of first use (slots);
//   2. their p, m, v as dense Adam has them (the deferred zero-gradient
//      steps caught up), into compact tables: the only pass that reads the
//      model's rows;
//   3. per sample: scores, loss terms and dL/dx, from the compact p;
//   4. per row: the gradient, summed in sample order by the thread that owns the row;
//   5. per row: Adam with the gradient plus the row's L2 term, from the
//      compact copy straight over the model's row: the only pass that writes them.
// On one thread the same arithmetic runs in a cache-friendlier order: 2 and 3
// a chunk of samples at a time (the rows first used in the chunk, then its
// samples), then 4 and 5 likewise (the chunk's gradients, then the rows last
// used in it), and a row updated at the step before is read in place, not
// copied. The loss is checked between the two sweeps, so a non-finite loss
// still leaves every row untouched.
// No step depends on the thread count or the order, so neither do the results.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/deferred_adam.hpp"
#include "kernels/memory.hpp"
#include "kernels/train.hpp"

namespace dtlns {

class MfAdamTrainer {
 public:
  // Whether this trainer runs `config`: MF (or 0 layers), 'adam' with
  // deferAdam and betas DeferredAdam supports, one rns or pop negative.
  static bool runs(const TrainConfig& config);

  // Every row of `model` is current at Adam step `step`.
  MfAdamTrainer(const ModelTables& model, const TrainConfig& config, uint64_t step);

  // Sums over a batch: softplus(s_uj - s_ui), and l2/2 (|u|² + |i|² + |j|²).
  struct Loss {
    double bpr = 0, reg = 0;
  };
  enum class Outcome {
    Ok,
    BadCatchUp,  // a caught-up parameter is not finite (at the step before)
    BadLoss,     // the loss is not finite; nothing was updated
    BadUpdate,   // an updated parameter is not finite
  };

  // Adam step (last step + 1) on the n >= 1 triples (users[k], pos[k], neg[k]).
  Outcome train(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n, Loss& loss);

  // Brings every row up to the last step; false when one is not finite.
  bool finish() { return adam_.flush(threads_); }

 private:
  static constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

  ModelTables m_;
  float l2_;
  int threads_;
  DeferredAdam adam_;
  CachedVector<uint32_t> slotOf_;       // per node: its slot in this batch, or kNoSlot
  std::vector<uint32_t> rows_;         // per slot: the node
  CachedVector<uint32_t> occurrences_;  // per slot: uses in this batch (L2 counts each)
  CachedVector<size_t> firstSample_;    // per slot: the sample that assigned it
  CachedVector<size_t> lastSample_;     // per slot: the last sample that uses it
  CachedVector<uint32_t> sampleSlotEnd_;  // per sample: the slots assigned up to it (slots are in order of first use)
  std::vector<uint32_t> chunkStart_, byLastUse_;  // the slots in order of the chunk of their last use
  CachedVector<uint32_t> sampleSlots_;  // per sample: the slots of u, i, j
  CachedVector<float> current_;         // per slot: p, m, v at the last step (three tables)
  std::vector<RowView> slotRows_;      // per slot: its p, m, v at the last step (current_, or the model's row)
  CachedVector<float> grad_;            // per slot: the gradient row
  std::vector<const float*> gradRows_;
  std::vector<float> l2Weights_;
  std::vector<float> coefficient_, bprTerm_, normTerm_;  // per sample

  const float* row(uint32_t slot) const { return slotRows_[slot].p; }
  void reserveFor(size_t n);
  void assignSlots(const uint32_t* users, const uint32_t* pos, const uint32_t* neg, size_t n);
  void releaseSlots();
  void scoreRange(size_t n, int64_t begin, int64_t end);
  template <class Owns>
  void accumulateRange(size_t begin, size_t end, Owns&& owns);
  bool sumLoss(size_t n, Loss& loss) const;
  Outcome trainInPhases(size_t n, Loss& loss);
  Outcome trainPipelined(size_t n, Loss& loss);
};

}  // namespace dtlns
