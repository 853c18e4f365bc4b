// The export list of dtlns_native.node.
#include <napi.h>

#include "binding/init.hpp"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace dtlns::binding;
  InitTopK(env, exports);
  InitTrain(env, exports);
  InitTrees(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(dtlns_native, Init)
