// Bindings of the training kernels: trainEpoch, trainStep, propagate,
// sampleUniform. Every array the kernels index is checked here (type, length,
// id ranges, CSR shape) so that no input can make a kernel read or write out
// of bounds; the model arrays are pinned and updated in place.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "binding/args.hpp"
#include "binding/sampler_args.hpp"
#include "binding/worker.hpp"
#include "kernels/train.hpp"

namespace dtlns::binding {
namespace {

constexpr int64_t kMaxRows = 0x7FFFFFFF;  // users + items must fit node ids in uint32
constexpr int64_t kMaxDim = 4096;
constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1

// x (read from field `name`) in a range; `open` bounds exclude the limit itself.
double checkRange(const Napi::Object& o, const char* name, double x, double lo, bool loOpen, double hi, bool hiOpen) {
  if (x < lo || (loOpen && x == lo) || x > hi || (hiOpen && x == hi))
    rangeError(o.Env(), "Expected " + std::string(name) + " in " + (loOpen ? "(" : "[") + std::to_string(lo) + ", " +
                            std::to_string(hi) + (hiOpen ? ")" : "]") + " but received " + std::to_string(x));
  return x;
}

std::string oneOf(const Napi::Object& o, const char* name, const std::vector<std::string>& allowed) {
  const std::string value = string(o, name);
  std::string list;
  for (const auto& a : allowed) {
    if (a == value) return value;
    list += (list.empty() ? "'" : ", '") + a + "'";
  }
  rangeError(o.Env(), "Expected " + std::string(name) + " to be one of " + list + " but received '" + value + "'");
}

Model readModel(const Napi::Object& o) { return oneOf(o, "model", {"mf", "lightgcn"}) == "mf" ? Model::MF : Model::LightGCN; }

Optimizer readOptimizer(const Napi::Object& o) {
  const std::string name = oneOf(o, "optimizer", {"adam", "lazy-adam", "sgd"});
  return name == "adam" ? Optimizer::Adam : name == "lazy-adam" ? Optimizer::LazyAdam : Optimizer::Sgd;
}

// The last checked private copy of each CSR field pair (per prefix, per Node
// environment). A training loop passes the same CSR at every epoch: comparing
// its bytes with the copy costs a fraction of copying them into fresh memory
// (a page fault per 4 KiB) and checking them again. The copy is never handed
// to JavaScript, so nothing can change it; a caller whose bytes differ gets a
// fresh copy, checked.
struct CheckedCsr {
  Napi::Reference<Napi::Uint32Array> indptr, indices;
  uint32_t nUsers = 0, nItems = 0;
};
using CheckedCsrs = std::map<std::string, CheckedCsr>;

bool sameBytes(const View<uint32_t>& a, const Napi::Uint32Array& b) {
  return a.length == b.ElementLength() && (a.length == 0 || std::memcmp(a.data, b.Data(), a.length * sizeof(uint32_t)) == 0);
}

// <prefix>Indptr / <prefix>Indices: a users x items CSR with strictly ascending rows.
PositiveSets readTrain(const Napi::Object& o, uint32_t nUsers, uint32_t nItems, std::vector<Napi::Value>& pins,
                       const std::string& prefix = "train") {
  Napi::Env env = o.Env();
  const std::string indptrName = prefix + "Indptr", indicesName = prefix + "Indices";
  CheckedCsrs& checked = *env.GetInstanceData<CheckedCsrs>();
  const auto kept = checked.find(prefix);
  if (kept != checked.end() && kept->second.nUsers == nUsers && kept->second.nItems == nItems) {
    const Napi::Uint32Array keptIndptr = kept->second.indptr.Value(), keptIndices = kept->second.indices.Value();
    if (sameBytes(typedArray<uint32_t>(o, indptrName.c_str()), keptIndptr) &&
        sameBytes(typedArray<uint32_t>(o, indicesName.c_str()), keptIndices)) {
      pins.push_back(keptIndptr);
      pins.push_back(keptIndices);
      return PositiveSets{keptIndptr.Data(), keptIndices.Data(), nUsers, nItems};
    }
  }
  auto indptr = ownedArray<uint32_t>(o, indptrName.c_str(), size_t(nUsers) + 1);
  auto indices = ownedArray<uint32_t>(o, indicesName.c_str());
  if (indptr.data[indptr.length - 1] != indices.length)
    rangeError(env, "Expected " + std::to_string(indptr.data[indptr.length - 1]) + " elements in " + indicesName +
                        " (the last value of " + indptrName + ") but received " + std::to_string(indices.length));
  checkIndptr(env, indptr, indptrName.c_str(), indices.length);
  checkIds(env, indices, indicesName.c_str(), nItems);
  for (uint32_t u = 0; u < nUsers; ++u)
    for (uint32_t p = indptr.data[u] + 1; p < indptr.data[u + 1]; ++p)
      if (indices.data[p] <= indices.data[p - 1])
        rangeError(env, "Expected " + indicesName + " strictly ascending within each row, but row " + std::to_string(u) +
                            " has " + std::to_string(indices.data[p]) + " after " + std::to_string(indices.data[p - 1]));
  pins.push_back(indptr.value);
  pins.push_back(indices.value);
  checked[prefix] = CheckedCsr{Napi::Persistent(indptr.value.As<Napi::Uint32Array>()),
                               Napi::Persistent(indices.value.As<Napi::Uint32Array>()), nUsers, nItems};
  return PositiveSets{indptr.data, indices.data, nUsers, nItems};
}

// The label-use inputs (TrainConfig): nonNegativesIndptr / nonNegativesIndices, a CSR that
// holds every positive, and positiveWeights, one finite weight >= 0 per positive.
void readLabelUse(const Napi::Object& o, const PositiveSets& train, TrainConfig& config, std::vector<Napi::Value>& pins) {
  Napi::Env env = o.Env();
  if (!o.Get("nonNegativesIndptr").IsUndefined() || !o.Get("nonNegativesIndices").IsUndefined()) {
    const PositiveSets non = readTrain(o, train.nUsers, train.nItems, pins, "nonNegatives");
    for (uint32_t u = 0; u < train.nUsers; ++u)
      for (uint32_t p = train.indptr[u]; p < train.indptr[u + 1]; ++p)
        if (!non.contains(u, train.indices[p]))
          rangeError(env, "Expected nonNegativesIndices to hold every positive, but row " + std::to_string(u) +
                              " lacks item " + std::to_string(train.indices[p]));
    config.nonNegatives = non;
  }
  if (!o.Get("positiveWeights").IsUndefined()) {
    auto weights = typedArray<float>(o, "positiveWeights", train.nnz());
    for (size_t p = 0; p < weights.length; ++p)
      if (!(std::isfinite(weights.data[p]) && weights.data[p] >= 0.f))
        rangeError(env, "Expected every value of positiveWeights finite and >= 0 but positiveWeights[" +
                            std::to_string(p) + "] is " + std::to_string(weights.data[p]));
    pins.push_back(weights.value);
    config.positiveWeights = weights.data;
  }
}

struct Shape {
  uint32_t nUsers, nItems;
  size_t dim;
};

Shape readShape(const Napi::Object& o) {
  return Shape{uint32_t(integer(o, "nUsers", 1, kMaxRows)), uint32_t(integer(o, "nItems", 1, kMaxRows)),
               size_t(integer(o, "dim", 1, kMaxDim))};
}

float* floatRows(const Napi::Object& o, const char* name, size_t rows, size_t dim, std::vector<Napi::Value>& pins) {
  auto view = typedArray<float>(o, name, rows * dim);
  pins.push_back(view.value);
  return view.data;
}

// The model arrays; the moments only when the optimizer uses them.
ModelTables readTables(const Napi::Object& o, const Shape& s, bool moments, std::vector<Napi::Value>& pins) {
  ModelTables m{};
  m.nUsers = s.nUsers;
  m.nItems = s.nItems;
  m.dim = s.dim;
  m.userEmb = floatRows(o, "userEmb", s.nUsers, s.dim, pins);
  m.itemEmb = floatRows(o, "itemEmb", s.nItems, s.dim, pins);
  if (moments) {
    m.userM = floatRows(o, "userM", s.nUsers, s.dim, pins);
    m.userV = floatRows(o, "userV", s.nUsers, s.dim, pins);
    m.itemM = floatRows(o, "itemM", s.nItems, s.dim, pins);
    m.itemV = floatRows(o, "itemV", s.nItems, s.dim, pins);
  }
  return m;
}

// Everything trainEpoch and trainStep share.
struct TrainArgs {
  ModelTables tables{};
  PositiveSets train{};
  TrainConfig config;
  uint64_t step = 0;
  std::vector<Napi::Value> pins;
};

TrainArgs readTrainArgs(const Napi::Object& o) {
  TrainArgs a;
  const Shape shape = readShape(o);
  a.config.model = readModel(o);
  a.config.layers = int(integer(o, "layers", 0, 4));
  a.config.optimizer.kind = readOptimizer(o);
  a.config.optimizer.lr = float(checkRange(o, "lr", number(o, "lr"), 0, true, 1e30, false));
  a.config.optimizer.beta1 = float(checkRange(o, "beta1", number(o, "beta1"), 0, false, 1, true));
  a.config.optimizer.beta2 = float(checkRange(o, "beta2", number(o, "beta2"), 0, false, 1, true));
  a.config.optimizer.eps = float(checkRange(o, "eps", number(o, "eps"), 0, false, 1, false));
  a.config.l2 = float(checkRange(o, "l2", number(o, "l2"), 0, false, 1e30, false));
  a.config.threads = int(integer(o, "threads", 1, 1024));
  a.config.deferAdam = boolean(o, "deferAdam", true);
  a.step = uint64_t(integer(o, "step", 0, kMaxSafeInteger));
  a.tables = readTables(o, shape, a.config.optimizer.kind != Optimizer::Sgd, a.pins);
  a.train = readTrain(o, shape.nUsers, shape.nItems, a.pins);
  a.config.sampler = readSampler(o, shape.nItems, a.pins);
  return a;
}

Napi::Object statsObject(Napi::Env env, const TrainStats& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", s.loss);
  out.Set("bprLoss", s.bprLoss);
  out.Set("regLoss", s.regLoss);
  out.Set("samples", double(s.samples));
  out.Set("skipped", double(s.skipped));
  out.Set("steps", double(s.steps));
  out.Set("step", double(s.step));
  out.Set("seconds", s.seconds);
  return out;
}

Napi::Promise startTraining(Napi::Env env, std::vector<Napi::Value> pins, std::function<TrainStats()> run) {
  auto stats = std::make_shared<TrainStats>();
  return KernelWorker::start(
      env, std::move(pins), [stats, run] { *stats = run(); },
      [stats](Napi::Env env) -> Napi::Value { return statsObject(env, *stats); });
}

// trainEpoch({...ModelState, model, layers, trainIndptr, trainIndices, optimizer,
//             lr, beta1, beta2, eps, l2, batch, seed, threads, and optionally
//             nonNegativesIndptr, nonNegativesIndices, positiveWeights}) -> Promise<TrainStats>
Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  TrainArgs a = readTrainArgs(o);
  readLabelUse(o, a.train, a.config, a.pins);
  a.config.batch = size_t(integer(o, "batch", 1, 1 << 24));
  a.config.seed = uint64_t(integer(o, "seed", 0, kMaxSafeInteger));
  const ModelTables tables = a.tables;
  const PositiveSets train = a.train;
  const TrainConfig config = a.config;
  const uint64_t step = a.step;
  return startTraining(info.Env(), std::move(a.pins), [=] { return trainEpoch(tables, train, config, step); });
}

// users and pos: n >= 1 positives with ids in range.
std::pair<View<uint32_t>, View<uint32_t>> readPositives(const Napi::Object& o, const Shape& s,
                                                         std::vector<Napi::Value>& pins) {
  Napi::Env env = o.Env();
  auto users = ownedArray<uint32_t>(o, "users");
  if (users.length == 0) rangeError(env, "Expected at least one triple in users but received 0");
  auto pos = ownedArray<uint32_t>(o, "pos", users.length);
  checkIds(env, users, "users", s.nUsers);
  checkIds(env, pos, "pos", s.nItems);
  pins.push_back(users.value);
  pins.push_back(pos.value);
  return {users, pos};
}

// trainStep({...same as trainEpoch without batch/seed and the label-use arrays, users, pos, optional
//   weights (one loss weight per positive), and the draws:
//   neg (n x k) for rns / pop; candidates, alphas, picks for dns / ahns / mixgcf / dtlns}) -> Promise<TrainStats>
Napi::Value TrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  TrainArgs a = readTrainArgs(o);
  const Shape shape{a.tables.nUsers, a.tables.nItems, a.tables.dim};
  auto [users, pos] = readPositives(o, shape, a.pins);
  const NegativeDraws draws =
      readDraws(o, a.config.sampler, a.config.effectiveLayers(), users.length, shape.nItems, pos.data, a.pins);
  const ModelTables tables = a.tables;
  const PositiveSets train = a.train;
  const TrainConfig config = a.config;
  const uint64_t step = a.step;
  const float* weights = nullptr;
  if (!o.Get("weights").IsUndefined()) {
    auto w = typedArray<float>(o, "weights", users.length);
    for (size_t k = 0; k < w.length; ++k)
      if (!(std::isfinite(w.data[k]) && w.data[k] >= 0.f))
        rangeError(env, "Expected every value of weights finite and >= 0 but weights[" + std::to_string(k) + "] is " +
                            std::to_string(w.data[k]));
    a.pins.push_back(w.value);
    weights = w.data;
  }
  const uint32_t *u = users.data, *p = pos.data;
  const size_t count = users.length;
  return startTraining(env, std::move(a.pins),
                       [=] { return trainStep(tables, train, config, step, u, p, draws, count, weights); });
}

// propagate({model, layers, nUsers, nItems, dim, userEmb, itemEmb, trainIndptr,
//            trainIndices, threads}) -> Promise<{users: Float32Array, items: Float32Array}>
Napi::Value Propagate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  const Shape s = readShape(o);
  const int layers = readModel(o) == Model::MF ? 0 : int(integer(o, "layers", 0, 4));
  const int threads = int(integer(o, "threads", 1, 1024));
  std::vector<Napi::Value> pins;
  const float* userEmb = floatRows(o, "userEmb", s.nUsers, s.dim, pins);
  const float* itemEmb = floatRows(o, "itemEmb", s.nItems, s.dim, pins);
  const PositiveSets train = readTrain(o, s.nUsers, s.nItems, pins);
  auto outUsers = Napi::Float32Array::New(env, size_t(s.nUsers) * s.dim);
  auto outItems = Napi::Float32Array::New(env, size_t(s.nItems) * s.dim);
  pins.push_back(outUsers);
  pins.push_back(outItems);
  float *ou = outUsers.Data(), *oi = outItems.Data();
  auto usersRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(outUsers.As<Napi::Object>()));
  auto itemsRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(outItems.As<Napi::Object>()));
  return KernelWorker::start(
      env, std::move(pins),
      [=] { propagateFinal(userEmb, itemEmb, s.nUsers, s.nItems, s.dim, train, layers, threads, ou, oi); },
      [usersRef, itemsRef](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("users", usersRef->Value());
        out.Set("items", itemsRef->Value());
        return out;
      });
}

Napi::Uint32Array toUint32Array(Napi::Env env, const std::vector<uint32_t>& values) {
  auto array = Napi::Uint32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), array.Data());
  return array;
}

// The options of the epoch-draw functions: nItems, seed, batch, threads and the train CSR.
struct DrawArgs {
  uint32_t nItems;
  uint64_t seed;
  size_t batch;
  int threads;
  std::vector<Napi::Value> pins;
  PositiveSets train;
};

DrawArgs readDrawArgs(Napi::Env env, const Napi::Object& o) {
  DrawArgs a;
  a.nItems = uint32_t(integer(o, "nItems", 1, kMaxRows));
  a.seed = uint64_t(integer(o, "seed", 0, kMaxSafeInteger));
  a.batch = size_t(integer(o, "batch", 1, 1 << 24));
  a.threads = int(integer(o, "threads", 1, 1024));
  auto indptr = typedArray<uint32_t>(o, "trainIndptr");
  if (indptr.length < 2 || indptr.length - 1 > size_t(kMaxRows))
    rangeError(env, "Expected trainIndptr to hold nUsers + 1 entries with nUsers in [1, " + std::to_string(kMaxRows) +
                        "] but received " + std::to_string(indptr.length) + " entries");
  a.train = readTrain(o, uint32_t(indptr.length - 1), a.nItems, a.pins);
  return a;
}

Napi::Value triplesObject(Napi::Env env, const SampledTriples& triples) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("users", toUint32Array(env, triples.users));
  out.Set("pos", toUint32Array(env, triples.pos));
  out.Set("neg", toUint32Array(env, triples.neg));
  out.Set("skipped", double(triples.skipped));
  return out;
}

// sampleUniform({trainIndptr, trainIndices, nItems, seed, batch, threads})
//   -> Promise<{users, pos, neg: Uint32Array, skipped: number}>, the triples trainEpoch draws.
Napi::Value SampleUniform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  DrawArgs a = readDrawArgs(env, o);
  auto triples = std::make_shared<SampledTriples>();
  return KernelWorker::start(
      env, std::move(a.pins),
      [triples, train = a.train, seed = a.seed, batch = a.batch, threads = a.threads] {
        *triples = sampleUniformEpoch(train, seed, batch, threads);
      },
      [triples](Napi::Env env) { return triplesObject(env, *triples); });
}

// mineNegatives({model, layers, nUsers, nItems, dim, userEmb, itemEmb, trainIndptr, trainIndices,
//   threads, sampler ('dns' | 'ahns' | 'mixgcf' | 'dtlns') and its fields, users, pos, candidates, alphas, picks})
//   -> Promise<{choice, items: Uint32Array (n x k x (L+1)), negatives: Float32Array (n x k x dim),
//               layerRows: Float32Array (n x k x (L+1) x dim)}>
Napi::Value MineNegatives(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  const Shape s = readShape(o);
  const int layers = readModel(o) == Model::MF ? 0 : int(integer(o, "layers", 0, 4));
  const int threads = int(integer(o, "threads", 1, 1024));
  std::vector<Napi::Value> pins;
  const float* userEmb = floatRows(o, "userEmb", s.nUsers, s.dim, pins);
  const float* itemEmb = floatRows(o, "itemEmb", s.nItems, s.dim, pins);
  const PositiveSets train = readTrain(o, s.nUsers, s.nItems, pins);
  const SamplerConfig config = readSampler(o, s.nItems, pins);
  if (!config.scores())
    rangeError(env, "Expected sampler to be one of 'dns', 'ahns', 'mixgcf', 'dtlns' (the samplers that choose among "
                    "candidates) for mineNegatives but received '" + string(o, "sampler") + "'");
  auto [users, pos] = readPositives(o, s, pins);
  const NegativeDraws draws = readDraws(o, config, layers, users.length, s.nItems, pos.data, pins);
  const uint32_t *u = users.data, *p = pos.data;
  const size_t n = users.length;
  auto mined = std::make_shared<MinedNegatives>();
  return KernelWorker::start(
      env, std::move(pins),
      [=] {
        NormalizedAdjacency adjacency;
        if (layers > 0) adjacency = buildNormalizedAdjacency(train);
        Propagation prop(layers > 0 ? &adjacency : nullptr, s.nUsers, s.nItems, layers, s.dim);
        std::vector<uint8_t> seen(size_t(s.nUsers) + s.nItems, 0);
        std::vector<uint32_t> targets;
        auto visit = [&](uint32_t node) {
          if (!seen[node]++) targets.push_back(node);
        };
        for (size_t k = 0; k < n; ++k) {
          visit(u[k]);
          visit(s.nUsers + p[k]);
        }
        for (size_t c = 0; c < n * config.candidatesPerSample(); ++c) visit(s.nUsers + draws.candidates[c]);
        prop.forward(NodeRows{userEmb, itemEmb, s.nUsers, s.dim}, targets, threads);
        mineNegatives(config, prop, u, p, draws, n, threads, true, *mined);
      },
      [mined](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("choice", toUint32Array(env, mined->choice));
        out.Set("items", toUint32Array(env, mined->items));
        auto negatives = Napi::Float32Array::New(env, mined->pooled.size());
        std::copy(mined->pooled.begin(), mined->pooled.end(), negatives.Data());
        auto layerRows = Napi::Float32Array::New(env, mined->layerRows.size());
        std::copy(mined->layerRows.begin(), mined->layerRows.end(), layerRows.Data());
        out.Set("negatives", negatives);
        out.Set("layerRows", layerRows);
        return out;
      });
}

// sampleNegatives({trainIndptr, trainIndices, nItems, seed, batch, threads, sampler and its fields,
//   positives, optionally nonNegativesIndptr / nonNegativesIndices})
//   -> Promise<{users, pos, neg: Uint32Array, skipped: number}>, the samples trainEpoch draws: neg holds
//   k negatives per positive (rns / pop) or the k x negs hard-negative candidates (dns, ahns, mixgcf, dtlns).
Napi::Value SampleNegatives(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  DrawArgs a = readDrawArgs(env, o);
  const SamplerConfig config = readSampler(o, a.nItems, a.pins);
  TrainConfig labelUse;
  readLabelUse(o, a.train, labelUse, a.pins);
  if (labelUse.positiveWeights)
    rangeError(env, "Expected no positiveWeights for sampleNegatives (weights do not change the draws)");
  auto triples = std::make_shared<SampledTriples>();
  return KernelWorker::start(
      env, std::move(a.pins),
      [triples, config, train = a.train, nonNegatives = labelUse.rejection(a.train), seed = a.seed, batch = a.batch,
       threads = a.threads] {
        *triples = sampleEpochNegatives(train, nonNegatives, Sampler(config, train), seed, batch, threads);
      },
      [triples](Napi::Env env) { return triplesObject(env, *triples); });
}

}  // namespace

void InitTrain(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new CheckedCsrs);
  exports.Set("trainEpoch", Napi::Function::New(env, TrainEpoch, "trainEpoch"));
  exports.Set("trainStep", Napi::Function::New(env, TrainStep, "trainStep"));
  exports.Set("propagate", Napi::Function::New(env, Propagate, "propagate"));
  exports.Set("sampleUniform", Napi::Function::New(env, SampleUniform, "sampleUniform"));
  exports.Set("sampleNegatives", Napi::Function::New(env, SampleNegatives, "sampleNegatives"));
  exports.Set("mineNegatives", Napi::Function::New(env, MineNegatives, "mineNegatives"));
}

}  // namespace dtlns::binding
