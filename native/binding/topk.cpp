#include "binding/args.hpp"
#include "binding/worker.hpp"
#include "kernels/topk.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace dtlns::binding {
namespace {

// NaN or infinite scores would rank silently wrong: names the first row of `rows` (every row
// when null) holding one. A vectorised pass finds whether any is there; only then the row.
void checkFiniteRows(Napi::Env env, const View<float>& table, size_t dim, const View<uint32_t>* rows, const char* name) {
  const size_t count = rows ? rows->length : table.length / dim;
  auto rowOf = [&](size_t r) { return rows ? size_t(rows->data[r]) : r; };
  bool finite = true;
  for (size_t r = 0; r < count; ++r) {
    const float* x = table.data + rowOf(r) * dim;
    for (size_t d = 0; d < dim; ++d) finite &= std::fabs(x[d]) <= std::numeric_limits<float>::max();
  }
  if (finite) return;
  for (size_t r = 0; r < count; ++r)
    for (size_t d = 0; d < dim; ++d) {
      const float v = table.data[rowOf(r) * dim + d];
      if (!std::isfinite(v))
        rangeError(env, std::string("Expected finite values in ") + name + " but row " + std::to_string(rowOf(r)) +
                            " holds " + (std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"));
    }
}

// maskedTopK({userEmb, itemEmb, dim, users, k, threads, maskIndptr?, maskIndices?})
//   -> Promise<{items: Uint32Array, scores: Float32Array}>
Napi::Value MaskedTopK(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = optionsArg(info);
  const size_t dim = size_t(integer(o, "dim", 1, 1 << 16));
  auto userEmb = typedArray<float>(o, "userEmb");
  auto itemEmb = typedArray<float>(o, "itemEmb");
  if (userEmb.length % dim) rangeError(env, "userEmb length " + std::to_string(userEmb.length) + " is not a multiple of dim " + std::to_string(dim));
  if (itemEmb.length % dim) rangeError(env, "itemEmb length " + std::to_string(itemEmb.length) + " is not a multiple of dim " + std::to_string(dim));
  const size_t nUsers = userEmb.length / dim, nItems = itemEmb.length / dim;
  if (nItems >= kNoItem) rangeError(env, "too many items in itemEmb");
  auto users = ownedArray<uint32_t>(o, "users");
  checkIds(env, users, "users", nUsers);
  const uint32_t k = uint32_t(integer(o, "k", 1, 1 << 20));
  const int threads = int(integer(o, "threads", 1, 1024));
  std::vector<Napi::Value> pins{userEmb.value, itemEmb.value, users.value};

  auto mask = std::make_shared<CsrView>();
  const bool hasMask = !o.Get("maskIndptr").IsUndefined();
  if (hasMask) {
    // Not copied (a copy of a large training set cost 2 % of a call of 4096 users): checked
    // here, its row bounds clamped by the kernel as it reads them.
    auto indptr = typedArray<uint32_t>(o, "maskIndptr", nUsers + 1);
    auto indices = typedArray<uint32_t>(o, "maskIndices");
    checkIndptr(env, indptr, "maskIndptr", indices.length);
    checkIds(env, indices, "maskIndices", nItems);
    *mask = CsrView{indptr.data, indices.data, indptr.length - 1, indices.length};
    pins.push_back(indptr.value);
    pins.push_back(indices.value);
  }
  checkFiniteRows(env, itemEmb, dim, nullptr, "itemEmb");
  checkFiniteRows(env, userEmb, dim, &users, "userEmb");
  const size_t nq = users.length;
  auto outItems = Napi::Uint32Array::New(env, nq * k);
  auto outScores = Napi::Float32Array::New(env, nq * k);
  pins.push_back(outItems);
  pins.push_back(outScores);
  const float* ue = userEmb.data; const float* ie = itemEmb.data; const uint32_t* uq = users.data;
  uint32_t* oi = outItems.Data(); float* os = outScores.Data();
  auto itemsRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(outItems.As<Napi::Object>()));
  auto scoresRef = std::make_shared<Napi::ObjectReference>(Napi::Persistent(outScores.As<Napi::Object>()));
  return KernelWorker::start(
      env, pins,
      [=] { maskedTopK(ue, ie, dim, nItems, uq, nq, hasMask ? mask.get() : nullptr, k, threads, oi, os); },
      [itemsRef, scoresRef](Napi::Env env) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("items", itemsRef->Value());
        out.Set("scores", scoresRef->Value());
        return out;
      });
}

}  // namespace

void InitTopK(Napi::Env env, Napi::Object exports) {
  exports.Set("maskedTopK", Napi::Function::New(env, MaskedTopK, "maskedTopK"));
}

}  // namespace dtlns::binding
