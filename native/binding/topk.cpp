#include "binding/args.hpp"
#include "binding/worker.hpp"
#include "kernels/topk.hpp"

namespace dtlns::binding {
namespace {

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
    auto indptr = ownedArray<uint32_t>(o, "maskIndptr", nUsers + 1);
    auto indices = ownedArray<uint32_t>(o, "maskIndices");
    checkIndptr(env, indptr, "maskIndptr", indices.length);
    checkIds(env, indices, "maskIndices", nItems);
    *mask = CsrView{indptr.data, indices.data, indptr.length - 1};
    pins.push_back(indptr.value);
    pins.push_back(indices.value);
  }
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
