// One AsyncWorker for every kernel: `work` runs on a libuv thread and never
// touches V8; `result` builds the resolved value on the main thread. The typed
// arrays the kernel reads are pinned by references until the promise settles.
// A named kernel error (ModelFitError) rejects with `code` set to its name, so
// callers test the code rather than parse the message.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/errors.hpp"
#include "kernels/train.hpp"

namespace dtlns::binding {

class KernelWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise start(Napi::Env env, std::vector<Napi::Value> pinned, Work work, Result result) {
    auto* worker = new KernelWorker(env, std::move(work), std::move(result));
    for (auto& v : pinned) worker->pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (const InvalidArgument& e) {
      rangeError_ = true;
      SetError(e.what());
    } catch (const ModelFitError& e) {
      code_ = "ModelFitError";
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    if (rangeError_)
      deferred_.Reject(Napi::RangeError::New(env, e.Message()).Value());
    else if (!code_.empty()) {
      Napi::Object error = e.Value();
      error.Set("code", Napi::String::New(env, code_));
      deferred_.Reject(error);
    } else
      deferred_.Reject(e.Value());
  }

 private:
  KernelWorker(Napi::Env env, Work work, Result result)
      : Napi::AsyncWorker(env, "dtlns-native"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), result_(std::move(result)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  std::vector<Napi::ObjectReference> pins_;
  bool rangeError_ = false;
  std::string code_;
};

// Runs a synchronous kernel call, turning kernel exceptions into JS errors.
template <class F>
auto runSync(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InvalidArgument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const ModelFitError& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, "ModelFitError"));
    throw error;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace dtlns::binding
