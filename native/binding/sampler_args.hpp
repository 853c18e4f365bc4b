// Reading and checking the sampler fields of an options object (trainEpoch,
// trainStep, mineNegatives, sampleNegatives) and the explicit draws of a step.
// Every field is required here: src/native.ts fills the absent ones from
// samplerDefaults (src/defaults.ts), their one declaration.
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "binding/args.hpp"
#include "kernels/sampler.hpp"

namespace dtlns::binding {

constexpr int64_t kMaxCandidates = 4096;
constexpr int64_t kMaxNegativesPerPositive = 256;

inline SamplerKind readSamplerKind(const Napi::Object& o) {
  const std::string name = string(o, "sampler");
  if (name == "rns") return SamplerKind::Uniform;
  if (name == "pop") return SamplerKind::Popularity;
  if (name == "dns") return SamplerKind::Dynamic;
  if (name == "ahns") return SamplerKind::Ahns;
  if (name == "mixgcf") return SamplerKind::MixGCF;
  if (name == "dtlns") return SamplerKind::DTLNS;
  rangeError(o.Env(), "Expected sampler to be one of 'rns', 'pop', 'dns', 'ahns', 'mixgcf', 'dtlns' but received '" + name + "'");
}

// Packed path codes `name` (Int32Array, nItems rows of equal width) and `name`Lengths.
inline PackedPaths readPaths(const Napi::Object& o, const std::string& name, uint32_t nItems,
                             std::vector<Napi::Value>& pins) {
  Napi::Env env = o.Env();
  auto codes = typedArray<int32_t>(o, name.c_str());
  if (codes.length % nItems != 0)
    rangeError(env, "Expected " + name + " to hold one row of path codes for each of the " + std::to_string(nItems) +
                        " items (a multiple of " + std::to_string(nItems) + " values) but received " +
                        std::to_string(codes.length) + " values");
  const size_t depth = codes.length / nItems;
  const std::string lengthsName = name + "Lengths";
  auto lengths = ownedArray<int32_t>(o, lengthsName.c_str(), nItems);
  for (size_t i = 0; i < nItems; ++i)
    if (lengths.data[i] < 0 || size_t(lengths.data[i]) > depth)
      rangeError(env, "Expected every value of " + lengthsName + " in [0, " + std::to_string(depth) + "] (the width of " +
                          name + ") but " + lengthsName + "[" + std::to_string(i) + "] is " +
                          std::to_string(lengths.data[i]));
  pins.push_back(codes.value);
  pins.push_back(lengths.value);
  return PackedPaths{codes.data, lengths.data, nItems, depth};
}

// sampler ('rns' | 'pop' | 'dns' | 'ahns' | 'mixgcf' | 'dtlns'), negs, k, popAlpha, dnsTopK,
// alphaCo, alphaSe, ahnsAlpha, ahnsBeta, ahnsP, and for 'dtlns' pathsCo(+Lengths), pathsSe(+Lengths).
inline SamplerConfig readSampler(const Napi::Object& o, uint32_t nItems, std::vector<Napi::Value>& pins) {
  SamplerConfig c;
  c.kind = readSamplerKind(o);
  c.negs = int(integer(o, "negs", 1, kMaxCandidates));
  c.k = int(integer(o, "k", 1, kMaxNegativesPerPositive));
  c.popAlpha = number(o, "popAlpha");
  if (c.popAlpha < 0 || c.popAlpha > 10)
    rangeError(o.Env(), "Expected popAlpha in [0, 10] but received " + std::to_string(c.popAlpha));
  c.dnsTopK = int(integer(o, "dnsTopK", 1, kMaxCandidates));
  if (c.kind == SamplerKind::Dynamic && c.dnsTopK > c.negs)
    rangeError(o.Env(), "Expected dnsTopK in [1, negs = " + std::to_string(c.negs) + "] but received " +
                            std::to_string(c.dnsTopK));
  const std::string positives = string(o, "positives");
  if (positives != "interactions" && positives != "user-uniform")
    rangeError(o.Env(), "Expected positives to be one of 'interactions', 'user-uniform' but received '" + positives + "'");
  c.positives = positives == "user-uniform" ? PositiveOrder::UserUniform : PositiveOrder::Interactions;
  c.alphaCo = float(number(o, "alphaCo"));
  c.alphaSe = float(number(o, "alphaSe"));
  c.ahnsAlpha = number(o, "ahnsAlpha");
  c.ahnsBeta = number(o, "ahnsBeta");
  if (c.ahnsBeta < 0)
    rangeError(o.Env(), "Expected ahnsBeta >= 0 but received " + std::to_string(c.ahnsBeta));
  c.ahnsP = int(integer(o, "ahnsP", -8, 8));
  if (c.kind == SamplerKind::DTLNS) {
    c.pathsCo = readPaths(o, "pathsCo", nItems, pins);
    c.pathsSe = readPaths(o, "pathsSe", nItems, pins);
  }
  return c;
}

// The explicit draws of n positives for a step or for mining: `neg` (n x k)
// for rns / pop, else `candidates` (n x k x negs, none equal to the sample's
// positive), `alphas` (n x k x (layers + 1) in [0, 1]) for mixgcf / dtlns and
// `picks` (n x k ranks below dnsTopK) for dns with dnsTopK > 1.
inline NegativeDraws readDraws(const Napi::Object& o, const SamplerConfig& c, int layers, size_t n, uint32_t nItems,
                               const uint32_t* pos, std::vector<Napi::Value>& pins) {
  Napi::Env env = o.Env();
  NegativeDraws draws;
  const char* name = c.scores() ? "candidates" : "neg";
  const size_t perSample = c.candidatesPerSample();
  auto items = ownedArray<uint32_t>(o, name, n * perSample);
  checkIds(env, items, name, nItems);
  for (size_t k = 0; k < items.length; ++k)
    if (items.data[k] == pos[k / perSample])
      rangeError(env, "Expected " + std::string(name) + "[" + std::to_string(k) + "] to differ from pos[" +
                          std::to_string(k / perSample) + "] but both are " + std::to_string(items.data[k]));
  pins.push_back(items.value);
  draws.candidates = items.data;
  if (c.mixes()) {
    auto alphas = typedArray<float>(o, "alphas", n * c.alphasPerSample(layers));
    for (size_t k = 0; k < alphas.length; ++k)
      if (!(alphas.data[k] >= 0.f && alphas.data[k] <= 1.f))
        rangeError(env, "Expected every value of alphas in [0, 1] but alphas[" + std::to_string(k) + "] is " +
                            std::to_string(alphas.data[k]));
    pins.push_back(alphas.value);
    draws.alphas = alphas.data;
  }
  if (c.picksPerSample() > 0) {
    auto picks = ownedArray<uint32_t>(o, "picks", n * c.picksPerSample());
    checkIds(env, picks, "picks", uint64_t(c.dnsTopK));
    pins.push_back(picks.value);
    draws.picks = picks.data;
  }
  return draws;
}

}  // namespace dtlns::binding
