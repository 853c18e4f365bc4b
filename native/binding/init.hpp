// One Init function per kernel family; addon.cpp calls them all.
#pragma once
#include <napi.h>

namespace dtlns::binding {
void InitTopK(Napi::Env env, Napi::Object exports);
void InitTrain(Napi::Env env, Napi::Object exports);
void InitTrees(Napi::Env env, Napi::Object exports);
}  // namespace dtlns::binding
