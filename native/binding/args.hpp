// Argument checks for the bindings. Every native entry point takes one options
// object; each field is read here and a wrong one throws a TypeError (wrong
// type) or RangeError (bad value) whose message names the field.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/errors.hpp"

namespace dtlns::binding {

inline std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_uint8_array: return "Uint8Array";
      default: return "another typed array";
    }
  }
  if (v.IsArray()) return "Array";
  if (v.IsNumber()) return "number " + std::to_string(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsFunction()) return "function";
  return "object";
}

[[noreturn]] inline void typeError(Napi::Env env, const std::string& name, const std::string& expected,
                                   const Napi::Value& got) {
  throw Napi::TypeError::New(env, "Expected " + expected + " for " + name + " but received " + describe(got));
}

[[noreturn]] inline void rangeError(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

inline Napi::Object optionsArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray())
    typeError(info.Env(), "options", "an options object", info.Length() ? info[0] : info.Env().Undefined());
  return info[0].As<Napi::Object>();
}

template <typename T>
struct ArrayTraits;
template <> struct ArrayTraits<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct ArrayTraits<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "Float64Array"; };
template <> struct ArrayTraits<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct ArrayTraits<uint32_t> { static constexpr napi_typedarray_type type = napi_uint32_array; static constexpr const char* name = "Uint32Array"; };
template <> struct ArrayTraits<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };

// A typed array seen without copying. `ref` pins it while an AsyncWorker runs.
template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  Napi::Value value;
};

template <typename T>
View<T> typedArray(const Napi::Object& opts, const char* name) {
  Napi::Value v = opts.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayTraits<T>::type)
    typeError(opts.Env(), name, ArrayTraits<T>::name, v);
  auto arr = v.As<Napi::TypedArrayOf<T>>();
  // A resizable buffer could shrink under a kernel that reads or writes it in place.
  if (arr.ArrayBuffer().Get("resizable").StrictEquals(Napi::Boolean::New(opts.Env(), true)))
    throw Napi::TypeError::New(opts.Env(), std::string("Expected ") + ArrayTraits<T>::name +
                                               " on a fixed-length ArrayBuffer for " + name +
                                               " but received one on a resizable ArrayBuffer");
  return View<T>{arr.Data(), arr.ElementLength(), v};
}

template <typename T>
View<T> typedArray(const Napi::Object& opts, const char* name, size_t expectedLength) {
  View<T> view = typedArray<T>(opts, name);
  if (view.length != expectedLength)
    rangeError(opts.Env(), "Expected " + std::to_string(expectedLength) + " elements in " + name + " but received " +
                               std::to_string(view.length));
  return view;
}

// A private copy of typed array `name`, made when the call is queued. Use it for
// every array whose values index memory (ids, offsets, lengths, CSR indptr and
// indices) and check the copy, never the caller's array: a caller that rewrites
// its array while the promise is pending may get wrong numbers but can never
// make a kernel read out of bounds. The copy is a fresh typed array no caller
// can reach, so it is pinned like any other view.
template <typename T>
View<T> ownedArray(const Napi::Object& opts, const char* name) {
  const View<T> seen = typedArray<T>(opts, name);
  auto copy = Napi::TypedArrayOf<T>::New(opts.Env(), seen.length);
  if (seen.length) std::memcpy(copy.Data(), seen.data, seen.length * sizeof(T));
  return View<T>{copy.Data(), seen.length, copy};
}

template <typename T>
View<T> ownedArray(const Napi::Object& opts, const char* name, size_t expectedLength) {
  const View<T> view = ownedArray<T>(opts, name);
  if (view.length != expectedLength)
    rangeError(opts.Env(), "Expected " + std::to_string(expectedLength) + " elements in " + name + " but received " +
                               std::to_string(view.length));
  return view;
}

inline double number(const Napi::Object& opts, const char* name) {
  Napi::Value v = opts.Get(name);
  if (!v.IsNumber()) typeError(opts.Env(), name, "a number", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) rangeError(opts.Env(), "Expected a finite number for " + std::string(name) + " but received " + std::to_string(d));
  return d;
}

inline double number(const Napi::Object& opts, const char* name, double fallback) {
  return opts.Get(name).IsUndefined() ? fallback : number(opts, name);
}

// An integer in [lo, hi].
inline int64_t integer(const Napi::Object& opts, const char* name, int64_t lo, int64_t hi) {
  Napi::Value v = opts.Get(name);
  if (!v.IsNumber()) typeError(opts.Env(), name, "an integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) typeError(opts.Env(), name, "an integer", v);
  if (d < double(lo) || d > double(hi))
    rangeError(opts.Env(), "Expected " + std::string(name) + " in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                               "] but received " + std::to_string(int64_t(d)));
  return int64_t(d);
}

inline int64_t integer(const Napi::Object& opts, const char* name, int64_t lo, int64_t hi, int64_t fallback) {
  return opts.Get(name).IsUndefined() ? fallback : integer(opts, name, lo, hi);
}

inline bool boolean(const Napi::Object& opts, const char* name, bool fallback) {
  Napi::Value v = opts.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) typeError(opts.Env(), name, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

inline std::string string(const Napi::Object& opts, const char* name) {
  Napi::Value v = opts.Get(name);
  if (!v.IsString()) typeError(opts.Env(), name, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

// Checks that every id in `ids` is < bound (ids index into arrays of that size).
template <typename T>
void checkIds(Napi::Env env, const View<T>& ids, const char* name, uint64_t bound) {
  // One vectorised min/max pass finds whether any id is out of range; only then the first one is looked for.
  T lo = 0, hi = 0;
  for (size_t i = 0; i < ids.length; ++i) {
    lo = std::min(lo, ids.data[i]);
    hi = std::max(hi, ids.data[i]);
  }
  if (!(lo < 0) && uint64_t(hi) < bound) return;
  for (size_t i = 0; i < ids.length; ++i) {
    if (ids.data[i] < 0 || uint64_t(ids.data[i]) >= bound)
      rangeError(env, idOutOfRange(name, bound, i, int64_t(ids.data[i])));
  }
}

// Checks a CSR row-pointer array: starts at 0, non-decreasing, ends at nnz.
inline void checkIndptr(Napi::Env env, const View<uint32_t>& indptr, const char* name, size_t nnz) {
  if (indptr.length == 0 || indptr.data[0] != 0) rangeError(env, std::string(name) + " must start with 0");
  for (size_t i = 1; i < indptr.length; ++i)
    if (indptr.data[i] < indptr.data[i - 1])
      rangeError(env, std::string(name) + " must be non-decreasing, but " + name + "[" + std::to_string(i) + "] < " +
                          name + "[" + std::to_string(i - 1) + "]");
  if (indptr.data[indptr.length - 1] != nnz)
    rangeError(env, std::string(name) + " must end with the number of indices (" + std::to_string(nnz) + ") but ends with " +
                        std::to_string(indptr.data[indptr.length - 1]));
}

}  // namespace dtlns::binding
