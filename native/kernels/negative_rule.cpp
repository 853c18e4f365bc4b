#include "kernels/negative_rule.hpp"

#include <algorithm>

#include "kernels/dot.hpp"
#include "kernels/errors.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {

std::unique_ptr<NegativeRule> makeNegativeRule(const SamplerConfig& config) {
  switch (config.kind) {
    case SamplerKind::Uniform:
    case SamplerKind::Popularity: return makeDrawnRule(config);
    case SamplerKind::Dynamic: return makeDnsRule(config);
    case SamplerKind::Ahns: return makeAhnsRule(config);
    case SamplerKind::MixGCF: return makeMixGcfRule(config);
    case SamplerKind::DTLNS: return makeDtlnsRule(config);
  }
  throw InvalidArgument("Expected a known sampler kind");
}

void mineNegatives(const SamplerConfig& config, const Propagation& prop, const uint32_t* users, const uint32_t* pos,
                   const NegativeDraws& draws, size_t n, int threads, bool keepLayerRows, MinedNegatives& out) {
  const std::unique_ptr<NegativeRule> rule = makeNegativeRule(config);
  const auto* mining = dynamic_cast<const MiningRule*>(rule.get());
  if (!mining) throw InvalidArgument("Expected a sampler that chooses among candidates (dns, ahns, mixgcf, dtlns)");
  mining->mine(StepBatch{&prop, users, pos, draws, n}, threads, keepLayerRows, out);
}

// ------------------------------------------------------------------ drawn

namespace {

class DrawnRule : public NegativeRule {
 public:
  using NegativeRule::NegativeRule;
  uint32_t candidateOccurrences() const override { return 1; }
  void choose(const StepBatch& batch, int, uint32_t*, Propagation& prop) override {
    batch_ = batch;
    prop.carryGradients(prop.targets(), false);  // every drawn item is trained on
  }
  const float* finalRow(size_t k, size_t s) const override { return batch_.prop->finalRow(item(k, s)); }
  float layer0Norm(size_t k, size_t s, float*) const override {
    const float* j0 = batch_.prop->layer(0).row(item(k, s));
    return dot(j0, j0, batch_.prop->layer(0).dim);
  }
  void addGradient(size_t k, size_t s, float g, const float* fu, float, const RowOwner& owner, Propagation& prop,
                   float*) const override {
    const uint32_t j = item(k, s);
    if (!owner.owns(j)) return;
    const size_t dim = prop.layer(0).dim;
    float* d = prop.finalGradRow(j);
#pragma omp simd
    for (size_t x = 0; x < dim; ++x) d[x] += g * fu[x];
  }
  double gradientRows(size_t) const override { return 1; }

 private:
  StepBatch batch_{};
  uint32_t item(size_t k, size_t s) const {
    return batch_.prop->layer(0).nUsers + batch_.draws.candidates[k * size_t(config_.k) + s];
  }
};

}  // namespace

std::unique_ptr<NegativeRule> makeDrawnRule(const SamplerConfig& config) { return std::make_unique<DrawnRule>(config); }

// ------------------------------------------------------------ candidate dots

void CandidateDots::score(const Propagation& prop, const uint32_t* users, const uint32_t* cand, size_t n,
                          size_t perSample, const std::vector<const float*>& itemTables, int threads) {
  const uint32_t nU = prop.layer(0).nUsers;
  const size_t dim = prop.layer(0).dim, nItems = prop.nodes() - nU;
  const size_t slots = n * perSample, tables = itemTables.size();
  // The slots grouped by candidate, ascending (a counting sort).
  start_.assign(nItems + 1, 0);
  for (size_t s = 0; s < slots; ++s) ++start_[cand[s] + 1];
  for (size_t j = 0; j < nItems; ++j) start_[j + 1] += start_[j];
  order_.resize(slots);
  for (size_t s = 0; s < slots; ++s) order_[start_[cand[s]]++] = uint32_t(s);
  dots.resize(tables * slots);
  parallelFor(threadsFor(threads, double(slots * tables * dim) * 2.0), int64_t(slots), [&](int64_t begin, int64_t end, int) {
    constexpr int64_t kAhead = 8;
    for (int64_t x = begin; x < end; ++x) {
      if (x + kAhead < end) {
        const uint32_t ahead = order_[size_t(x + kAhead)];
        prefetchRow(prop.finalRow(users[ahead / perSample]), dim, false);
        for (const float* table : itemTables) prefetchRow(table + size_t(cand[ahead]) * dim, dim, false);
      }
      const uint32_t s = order_[size_t(x)];
      const float* fu = prop.finalRow(users[s / perSample]);
      const size_t j = cand[s];
      for (size_t t = 0; t < tables; ++t) dots[t * slots + s] = dot(fu, itemTables[t] + j * dim, dim);
    }
  });
}

// ------------------------------------------------------------------ mining

void MiningRule::restrictToChosen(Propagation& prop, bool layerGradients) {
  const uint32_t nU = prop.layer(0).nUsers;
  const size_t perSample = size_t(config_.k) * size_t(prop.layers() + 1);
  carries_.resize(prop.nodes(), 0);
  lossRows_.clear();
  auto carries = [&](uint32_t node) {
    if (!carries_[node]) {
      carries_[node] = 1;
      lossRows_.push_back(node);
    }
  };
  // The users and positives first: with layer gradients only they take a final-row one.
  for (size_t k = 0; k < batch_.n; ++k) {
    carries(batch_.users[k]);
    carries(nU + batch_.pos[k]);
  }
  const size_t finals = lossRows_.size();
  for (size_t x = 0; x < batch_.n * perSample; ++x) carries(nU + mined_.items[x]);
  for (uint32_t r : lossRows_) carries_[r] = 0;
  prop.carryGradients(lossRows_, layerGradients, finals);
}

// ------------------------------------------------------------- chosen item

void ChosenItemRule::mine(const StepBatch& batch, int threads, bool keepLayerRows, MinedNegatives& out) const {
  const Propagation& prop = *batch.prop;
  const NegativeDraws& draws = batch.draws;
  const uint32_t* users = batch.users;
  const uint32_t* pos = batch.pos;
  const size_t n = batch.n;
  const uint32_t nU = prop.layer(0).nUsers;
  const size_t dim = prop.layer(0).dim, K = size_t(config_.k), C = config_.candidates();
  const size_t L1 = size_t(prop.layers()) + 1;
  out.choice.resize(n * K * L1);
  out.items.resize(n * K * L1);
  out.pooled.resize(n * K * dim);
  out.layerRows.resize(keepLayerRows ? n * K * L1 * dim : 0);
  dots_.score(prop, users, draws.candidates, n, K * C, {prop.finalRow(nU)}, threads);
  parallelFor(threadsFor(threads, double(n * K * C) * 8.0), int64_t(n), [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(C);
    std::vector<uint32_t> order;
    for (int64_t k = begin; k < end; ++k) {
      const float* fu = prop.finalRow(users[k]);
      const float* fi = prop.finalRow(nU + pos[k]);
      for (size_t s = 0; s < K; ++s) {
        const size_t group = size_t(k) * K + s;
        const uint32_t* cand = draws.candidates + group * C;
        std::copy(dots_.dots.begin() + group * C, dots_.dots.begin() + (group + 1) * C, scores.begin());
        const uint32_t rank = config_.picksPerSample() ? draws.picks[group] : 0;
        const uint32_t best = pick(scores.data(), C, fu, fi, dim, rank, order);
        std::fill(out.choice.data() + group * L1, out.choice.data() + (group + 1) * L1, best);
        std::fill(out.items.data() + group * L1, out.items.data() + (group + 1) * L1, cand[best]);
      }
    }
  });
  // The chosen rows, fetched a few groups ahead.
  const size_t groups = n * K;
  parallelFor(threadsFor(threads, double(groups * dim * (keepLayerRows ? L1 + 1 : 1))), int64_t(groups),
              [&](int64_t begin, int64_t end, int) {
    constexpr int64_t kAhead = 4;
    auto chosen = [&](int64_t group) { return nU + out.items[size_t(group) * L1]; };
    auto prefetchGroup = [&](int64_t group) {
      prefetchRow(prop.finalRow(chosen(group)), dim, false);
      if (keepLayerRows)
        for (size_t l = 0; l < L1; ++l) prefetchRow(prop.layer(int(l)).row(chosen(group)), dim, false);
    };
    for (int64_t group = begin; group < end; ++group) {
      if (group + kAhead < end) prefetchGroup(group + kAhead);
      const uint32_t j = chosen(group);
      const float* f = prop.finalRow(j);
      std::copy(f, f + dim, out.pooled.data() + size_t(group) * dim);
      if (keepLayerRows)
        for (size_t l = 0; l < L1; ++l) {
          const float* row = prop.layer(int(l)).row(j);
          std::copy(row, row + dim, out.layerRows.data() + (size_t(group) * L1 + l) * dim);
        }
    }
  });
}

uint32_t ChosenItemRule::item(size_t k, size_t s) const {
  const size_t L1 = size_t(batch_.prop->layers()) + 1;
  return batch_.prop->layer(0).nUsers + mined_.items[(k * size_t(config_.k) + s) * L1];
}

void ChosenItemRule::choose(const StepBatch& batch, int threads, uint32_t* occurrences, Propagation& prop) {
  batch_ = batch;
  mine(batch, threads, false, mined_);
  // The chosen item is trained on its own rows: one L2 occurrence each.
  for (size_t k = 0; k < batch.n; ++k)
    for (size_t s = 0; s < size_t(config_.k); ++s) ++occurrences[item(k, s)];
  restrictToChosen(prop, false);
}

const float* ChosenItemRule::finalRow(size_t k, size_t s) const { return batch_.prop->finalRow(item(k, s)); }

float ChosenItemRule::layer0Norm(size_t k, size_t s, float*) const {
  const float* j0 = batch_.prop->layer(0).row(item(k, s));
  return dot(j0, j0, batch_.prop->layer(0).dim);
}

void ChosenItemRule::addGradient(size_t k, size_t s, float g, const float* fu, float, const RowOwner& owner,
                                 Propagation& prop, float*) const {
  const uint32_t j = item(k, s);
  if (!owner.owns(j)) return;
  const size_t dim = prop.layer(0).dim;
  float* d = prop.finalGradRow(j);
#pragma omp simd
  for (size_t x = 0; x < dim; ++x) d[x] += g * fu[x];
}

// ------------------------------------------------------------------ mixing

void MixingRule::mine(const StepBatch& batch, int threads, bool keepLayerRows, MinedNegatives& out) const {
  const Propagation& prop = *batch.prop;
  const NegativeDraws& draws = batch.draws;
  const uint32_t* users = batch.users;
  const uint32_t* pos = batch.pos;
  const size_t n = batch.n;
  const NodeRows e0 = prop.layer(0);
  const uint32_t nU = e0.nUsers;
  const size_t dim = e0.dim, K = size_t(config_.k), C = config_.candidates();
  const int L = prop.layers();
  const size_t L1 = size_t(L) + 1;
  out.choice.resize(n * K * L1);
  out.items.resize(n * K * L1);
  out.pooled.resize(n * K * dim);
  out.layerRows.resize(keepLayerRows ? n * K * L1 * dim : 0);
  std::vector<NodeRows> layers;
  std::vector<const float*> itemTables;
  for (int l = 0; l <= L; ++l) {
    layers.push_back(prop.layer(l));
    itemTables.push_back(layers.back().items);
  }
  // <F_u, E^l_j> for every candidate j and layer l, and <F_u, E^l_i>.
  dots_.score(prop, users, draws.candidates, n, K * C, itemTables, threads);
  positiveDots_.score(prop, users, pos, n, 1, itemTables, threads);
  const size_t slots = n * K * C;

  // The choice per layer, from the dots alone.
  parallelFor(threadsFor(threads, double(n * K * L1 * C) * 4.0), int64_t(n), [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(C), bonus(C);
    std::vector<uint32_t> original(C);
    auto originalItem = [&](uint32_t item) { return batch.originalNode[nU + item] - nU; };
    for (int64_t k = begin; k < end; ++k) {
      for (size_t s = 0; s < K; ++s) {
        const size_t group = size_t(k) * K + s;
        const uint32_t* cand = draws.candidates + group * C;
        if (batch.originalNode) {
          for (size_t c = 0; c < C; ++c) original[c] = originalItem(cand[c]);
          groupBonus(originalItem(pos[k]), original.data(), C, bonus.data());
        } else {
          groupBonus(pos[k], cand, C, bonus.data());
        }
        for (size_t l = 0; l < L1; ++l) {
          const float a = draws.alphas[group * L1 + l];
          // <F_u, a e_i + (1 - a) e_j> for every candidate j.
          const float positive = a * positiveDots_.dots[l * n + size_t(k)];
          const float* d = dots_.dots.data() + l * slots + group * C;
          for (size_t c = 0; c < C; ++c) scores[c] = positive + (1.f - a) * d[c];
          adjustScores(scores.data(), C, bonus.data());
          const uint32_t best = argmax(scores.data(), C);
          out.choice[group * L1 + l] = best;
          out.items[group * L1 + l] = cand[best];
        }
      }
    }
  });

  // The mixed rows of the choices, their rows fetched a few groups ahead.
  const size_t groups = n * K;
  parallelFor(threadsFor(threads, double(groups * L1 * dim) * 3.0), int64_t(groups), [&](int64_t begin, int64_t end, int) {
    std::vector<float> mixed(dim);
    constexpr int64_t kAhead = 2;
    auto prefetchGroup = [&](int64_t group) {
      for (size_t l = 0; l < L1; ++l) prefetchRow(layers[l].row(nU + out.items[size_t(group) * L1 + l]), dim, false);
    };
    for (int64_t g = begin; g < std::min(end, begin + kAhead); ++g) prefetchGroup(g);
    for (int64_t group = begin; group < end; ++group) {
      if (group + kAhead < end) prefetchGroup(group + kAhead);
      const uint32_t i = pos[size_t(group) / K];
      float* pooled = out.pooled.data() + size_t(group) * dim;
      std::fill(pooled, pooled + dim, 0.f);
      for (size_t l = 0; l < L1; ++l) {
        const float a = draws.alphas[size_t(group) * L1 + l];
        const float* ei = layers[l].row(nU + i);
        const float* ej = layers[l].row(nU + out.items[size_t(group) * L1 + l]);
        for (size_t d = 0; d < dim; ++d) mixed[d] = a * ei[d] + (1.f - a) * ej[d];
        for (size_t d = 0; d < dim; ++d) pooled[d] += mixed[d];
        if (keepLayerRows) std::copy(mixed.begin(), mixed.end(), out.layerRows.data() + (size_t(group) * L1 + l) * dim);
      }
      for (size_t d = 0; d < dim; ++d) pooled[d] /= float(L1);
    }
  });
}

void MixingRule::choose(const StepBatch& batch, int threads, uint32_t*, Propagation& prop) {
  batch_ = batch;
  // Mixed negatives carry their own L2 term (layer0Norm), not an occurrence of an item row.
  mine(batch, threads, false, mined_);
  restrictToChosen(prop, true);
}

const float* MixingRule::finalRow(size_t k, size_t s) const {
  return mined_.pooled.data() + (k * size_t(config_.k) + s) * batch_.prop->layer(0).dim;
}

// The mixed layer-0 row of a negative: alpha_0 e_i + (1 - alpha_0) e_c0.
void MixingRule::mixedLayer0(size_t k, size_t s, float* out) const {
  const NodeRows e0 = batch_.prop->layer(0);
  const size_t L1 = size_t(batch_.prop->layers()) + 1, group = k * size_t(config_.k) + s;
  const float a = batch_.draws.alphas[group * L1];
  const float* ei = e0.row(e0.nUsers + batch_.pos[k]);
  const float* ec = e0.row(e0.nUsers + mined_.items[group * L1]);
  for (size_t d = 0; d < e0.dim; ++d) out[d] = a * ei[d] + (1.f - a) * ec[d];
}

float MixingRule::layer0Norm(size_t k, size_t s, float* scratch) const {
  mixedLayer0(k, s, scratch);
  return dot(scratch, scratch, batch_.prop->layer(0).dim);
}

void MixingRule::addGradient(size_t k, size_t s, float g, const float* fu, float regScale, const RowOwner& owner,
                             Propagation& prop, float* scratch) const {
  const NodeRows e0 = prop.layer(0);
  const uint32_t nU = e0.nUsers, i = nU + batch_.pos[k];
  const size_t dim = e0.dim, L1 = size_t(prop.layers()) + 1, group = k * size_t(config_.k) + s;
  const NegativeDraws& draws = batch_.draws;
  // Through the mixing: d ẽ^l / d E^l_i = alpha_l, d ẽ^l / d E^l_c = 1 - alpha_l.
  for (size_t l = 0; l < L1; ++l) {
    const float a = draws.alphas[group * L1 + l];
    const uint32_t c = nU + mined_.items[group * L1 + l];
    const float w = g / float(L1);
    if (owner.owns(i)) {
      float* d = prop.layerGradRow(int(l), i);
#pragma omp simd
      for (size_t x = 0; x < dim; ++x) d[x] += w * a * fu[x];
    }
    if (owner.owns(c)) {
      float* d = prop.layerGradRow(int(l), c);
#pragma omp simd
      for (size_t x = 0; x < dim; ++x) d[x] += w * (1.f - a) * fu[x];
    }
  }
  // L2 on the mixed layer-0 row.
  const uint32_t c0 = nU + mined_.items[group * L1];
  if (owner.owns(i) || owner.owns(c0)) {
    const float a = draws.alphas[group * L1];
    mixedLayer0(k, s, scratch);
    if (owner.owns(i)) {
      float* d = prop.layerGradRow(0, i);
      for (size_t x = 0; x < dim; ++x) d[x] += regScale * a * scratch[x];
    }
    if (owner.owns(c0)) {
      float* d = prop.layerGradRow(0, c0);
      for (size_t x = 0; x < dim; ++x) d[x] += regScale * (1.f - a) * scratch[x];
    }
  }
}

}  // namespace dtlns
