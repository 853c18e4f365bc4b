// Bindings of the index-tree kernels: balanced hierarchical k-means, the
// Jaccard co-occurrence graph, its spectral embedding, and prefix similarity.
#include <cstring>
#include <memory>

#include "binding/args.hpp"
#include "binding/worker.hpp"
#include "kernels/kmeans_tree.hpp"
#include "kernels/prefix.hpp"
#include "kernels/spectral.hpp"

namespace dtlns::binding {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t(1) << 53) - 1;
constexpr int64_t kMaxIndex = 0x7FFFFFFF;

template <typename T>
struct TypedArrayFor;
template <> struct TypedArrayFor<int32_t> { using Type = Napi::Int32Array; };
template <> struct TypedArrayFor<uint32_t> { using Type = Napi::Uint32Array; };
template <> struct TypedArrayFor<float> { using Type = Napi::Float32Array; };
template <> struct TypedArrayFor<double> { using Type = Napi::Float64Array; };

template <typename T>
Napi::Value copyOut(Napi::Env env, const std::vector<T>& v) {
  auto out = TypedArrayFor<T>::Type::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(T));
  return out;
}

void checkFinite(Napi::Env env, const View<float>& v, const char* name, size_t rowWidth) {
  for (size_t k = 0; k < v.length; ++k)
    if (!std::isfinite(v.data[k]))
      rangeError(env, "Expected finite values in " + std::string(name) + " but " + name + "[" + std::to_string(k) +
                          "] (row " + std::to_string(k / rowWidth) + ") is " + (std::isnan(v.data[k]) ? "NaN" : "infinite"));
}

// Columns strictly ascending within each row: a CSR without duplicate entries.
void checkAscendingRows(Napi::Env env, const View<uint32_t>& indptr, const View<uint32_t>& indices, const char* name) {
  for (size_t r = 0; r + 1 < indptr.length; ++r)
    for (uint32_t k = indptr.data[r] + 1; k < indptr.data[r + 1]; ++k)
      if (indices.data[k] <= indices.data[k - 1])
        rangeError(env, "Expected strictly ascending column indices within each row of " + std::string(name) + " but row " +
                            std::to_string(r) + " has " + std::to_string(indices.data[k - 1]) + " then " +
                            std::to_string(indices.data[k]));
}

// buildBalancedTree({points, n, dim, branching, leafSize, maxIter, nInit?, tolerance?, seed, threads})
Napi::Value BuildBalancedTree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  const size_t n = size_t(integer(o, "n", 1, kMaxIndex));
  const size_t dim = size_t(integer(o, "dim", 1, 1 << 16));
  auto points = ownedArray<float>(o, "points", n * dim);
  checkFinite(env, points, "points", dim);
  BalancedTreeOptions opt;
  opt.branching = uint32_t(integer(o, "branching", 2, 1 << 16));
  opt.leafSize = uint32_t(integer(o, "leafSize", 1, kMaxIndex));
  opt.maxIter = uint32_t(integer(o, "maxIter", 1, 1 << 20));
  opt.nInit = uint32_t(integer(o, "nInit", 1, 1 << 16, 1));
  opt.tolerance = number(o, "tolerance", opt.tolerance);
  if (opt.tolerance < 0) rangeError(env, "Expected tolerance >= 0 but received " + std::to_string(opt.tolerance));
  opt.seed = uint64_t(integer(o, "seed", 0, kMaxSafeInteger));
  opt.threads = int(integer(o, "threads", 1, 1024));

  auto tree = std::make_shared<BalancedTree>();
  const float* data = points.data;
  return KernelWorker::start(
      env, {points.value}, [=] { *tree = buildBalancedTree(data, n, dim, opt); },
      [tree](Napi::Env env) {
        Napi::Object nodes = Napi::Object::New(env);
        nodes.Set("count", Napi::Number::New(env, double(tree->parent.size())));
        nodes.Set("parent", copyOut(env, tree->parent));
        nodes.Set("depth", copyOut(env, tree->depth));
        nodes.Set("childIndex", copyOut(env, tree->childIndex));
        nodes.Set("firstChild", copyOut(env, tree->firstChild));
        nodes.Set("childCount", copyOut(env, tree->childCount));
        nodes.Set("size", copyOut(env, tree->size));
        nodes.Set("iterations", copyOut(env, tree->iterations));
        nodes.Set("moved", copyOut(env, tree->moved));
        nodes.Set("centroids", copyOut(env, tree->centroids));
        Napi::Object out = Napi::Object::New(env);
        out.Set("maxDepth", Napi::Number::New(env, tree->maxDepth));
        out.Set("paths", copyOut(env, tree->paths));
        out.Set("lengths", copyOut(env, tree->lengths));
        out.Set("leaf", copyOut(env, tree->leafOf));
        out.Set("nodes", nodes);
        return out;
      });
}

// jaccardGraph({indptr, indices, nItems, topK?, threads}) over a users x items CSR.
Napi::Value JaccardGraphBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  auto indptr = ownedArray<uint32_t>(o, "indptr");
  auto indices = ownedArray<uint32_t>(o, "indices");
  checkIndptr(env, indptr, "indptr", indices.length);
  const size_t nItems = size_t(integer(o, "nItems", 1, kMaxIndex));
  checkIds(env, indices, "indices", nItems);
  checkAscendingRows(env, indptr, indices, "indices");
  const uint32_t topK = uint32_t(integer(o, "topK", 0, kMaxIndex, 0));
  const int threads = int(integer(o, "threads", 1, 1024));
  const size_t nUsers = indptr.length - 1;

  auto graph = std::make_shared<JaccardGraph>();
  const uint32_t* ip = indptr.data;
  const uint32_t* ix = indices.data;
  return KernelWorker::start(
      env, {indptr.value, indices.value}, [=] { *graph = jaccardGraph(ip, ix, nUsers, nItems, topK, threads); },
      [graph](Napi::Env env) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("indptr", copyOut(env, graph->indptr));
        out.Set("indices", copyOut(env, graph->indices));
        out.Set("values", copyOut(env, graph->values));
        return out;
      });
}

// spectralEmbedding({indptr, indices, values, dims, blockSize?, basisSize?, maxRestarts?, tolerance?, seed, threads})
// over a symmetric n x n CSR with non-negative values.
Napi::Value SpectralEmbedding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  auto indptr = ownedArray<uint32_t>(o, "indptr");
  auto indices = ownedArray<uint32_t>(o, "indices");
  checkIndptr(env, indptr, "indptr", indices.length);
  const size_t n = indptr.length - 1;
  if (n < 2) rangeError(env, "Expected a graph of at least 2 nodes in indptr but received " + std::to_string(n));
  checkIds(env, indices, "indices", n);
  auto values = ownedArray<float>(o, "values", indices.length);
  for (size_t k = 0; k < values.length; ++k)
    if (!(values.data[k] >= 0) || !std::isfinite(values.data[k]))
      rangeError(env, "Expected finite non-negative values but values[" + std::to_string(k) + "] is " +
                          std::to_string(values.data[k]));
  SpectralOptions opt;
  opt.dims = uint32_t(integer(o, "dims", 1, int64_t(n) - 1));
  opt.blockSize = uint32_t(integer(o, "blockSize", 1, 256, opt.blockSize));
  opt.basisSize = uint32_t(integer(o, "basisSize", 0, 1 << 16, opt.basisSize));
  opt.maxRestarts = uint32_t(integer(o, "maxRestarts", 0, 1 << 20, opt.maxRestarts));
  opt.tolerance = number(o, "tolerance", opt.tolerance);
  if (opt.tolerance <= 0) rangeError(env, "Expected tolerance > 0 but received " + std::to_string(opt.tolerance));
  opt.seed = uint64_t(integer(o, "seed", 0, kMaxSafeInteger));
  opt.threads = int(integer(o, "threads", 1, 1024));

  SparseMatrixView view{indptr.data, indices.data, values.data, n};
  auto result = std::make_shared<SpectralResult>();
  return KernelWorker::start(
      env, {indptr.value, indices.value, values.value}, [=] { *result = spectralEmbedding(view, opt); },
      [result](Napi::Env env) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("features", copyOut(env, result->features));
        out.Set("eigenvalues", copyOut(env, result->eigenvalues));
        out.Set("residuals", copyOut(env, result->residuals));
        out.Set("restarts", Napi::Number::New(env, result->restarts));
        out.Set("products", Napi::Number::New(env, double(result->products)));
        out.Set("converged", Napi::Boolean::New(env, result->converged));
        out.Set("dense", Napi::Boolean::New(env, result->dense));
        return out;
      });
}

struct PathArgs {
  PackedPaths paths;
  std::vector<Napi::Value> pins;
};

PathArgs pathArgs(Napi::Env env, const Napi::Object& o) {
  // Not copied (a copy of a large tree's lengths cost a sixth of a call of 1M pairs): checked
  // here, clamped by the kernels as they read them (PackedPaths::length).
  auto lengths = typedArray<int32_t>(o, "lengths");
  const size_t maxDepth = size_t(integer(o, "maxDepth", 0, 1 << 16));
  auto codes = typedArray<int32_t>(o, "paths", lengths.length * maxDepth);
  for (size_t i = 0; i < lengths.length; ++i)
    if (lengths.data[i] < 0 || size_t(lengths.data[i]) > maxDepth)
      rangeError(env, "Expected every value of lengths in [0, " + std::to_string(maxDepth) + "] (maxDepth) but lengths[" +
                          std::to_string(i) + "] is " + std::to_string(lengths.data[i]));
  return PathArgs{PackedPaths{codes.data, lengths.data, lengths.length, maxDepth}, {codes.value, lengths.value}};
}

// The caller's `out` (a Float32Array of `count` elements), or a new one: a caller that reuses
// one across calls skips the allocation, its zeroing and page faults (an eighth of a call).
Napi::Float32Array outputArray(const Napi::Object& o, size_t count) {
  if (o.Get("out").IsUndefined()) return Napi::Float32Array::New(o.Env(), count);
  return typedArray<float>(o, "out", count).value.As<Napi::Float32Array>();
}

// prefixSimilarityPairs({paths, lengths, maxDepth, a, b, threads, out?}) -> Float32Array (out when given)
Napi::Value PrefixSimilarityPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  PathArgs args = pathArgs(env, o);
  // Neither copied nor checked here (a copy or a pass costs more than the kernel): the kernel
  // checks the ids as it reads them and clamps every id it uses.
  auto a = typedArray<uint32_t>(o, "a");
  auto b = typedArray<uint32_t>(o, "b", a.length);
  const int threads = int(integer(o, "threads", 1, 1024));
  Napi::Float32Array out = outputArray(o, a.length);
  args.pins.insert(args.pins.end(), {a.value, b.value, out});
  const PackedPaths paths = args.paths;
  const uint32_t* pa = a.data;
  const uint32_t* pb = b.data;
  float* po = out.Data();
  const size_t count = a.length;
  auto outRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(out.As<Napi::Object>()));
  return KernelWorker::start(
      env, args.pins, [=] { prefixSimilarityPairs(paths, pa, pb, count, threads, po); },
      [outRef](Napi::Env) { return outRef->Value(); });
}

// prefixSimilarityOneToMany({paths, lengths, maxDepth, item, others, threads, out?}) -> Float32Array
Napi::Value PrefixSimilarityOneToMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  PathArgs args = pathArgs(env, o);
  if (args.paths.nItems == 0) rangeError(env, "Expected at least one item in lengths");
  const uint32_t item = uint32_t(integer(o, "item", 0, int64_t(args.paths.nItems) - 1));
  auto others = typedArray<uint32_t>(o, "others");  // checked and clamped by the kernel, as above
  const int threads = int(integer(o, "threads", 1, 1024));
  Napi::Float32Array out = outputArray(o, others.length);
  args.pins.insert(args.pins.end(), {others.value, out});
  const PackedPaths paths = args.paths;
  const uint32_t* po = others.data;
  float* pout = out.Data();
  const size_t count = others.length;
  auto outRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(out.As<Napi::Object>()));
  return KernelWorker::start(
      env, args.pins, [=] { prefixSimilarityOneToMany(paths, item, po, count, threads, pout); },
      [outRef](Napi::Env) { return outRef->Value(); });
}

}  // namespace

void InitTrees(Napi::Env env, Napi::Object exports) {
  exports.Set("buildBalancedTree", Napi::Function::New(env, BuildBalancedTree, "buildBalancedTree"));
  exports.Set("jaccardGraph", Napi::Function::New(env, JaccardGraphBinding, "jaccardGraph"));
  exports.Set("spectralEmbedding", Napi::Function::New(env, SpectralEmbedding, "spectralEmbedding"));
  exports.Set("prefixSimilarityPairs", Napi::Function::New(env, PrefixSimilarityPairs, "prefixSimilarityPairs"));
  exports.Set("prefixSimilarityOneToMany", Napi::Function::New(env, PrefixSimilarityOneToMany, "prefixSimilarityOneToMany"));
}

}  // namespace dtlns::binding
