// Prefix similarity of tree paths (DTL-NS): sim(i,j) = LCP(path_i, path_j) /
// min(len_i, len_j), over paths packed as an nItems x maxDepth int32 matrix
// (-1 padded) with per-item lengths. A pair where either path is empty scores 0.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/bits.hpp"
#include "kernels/memory.hpp"

namespace dtlns {

struct PackedPaths {
  const int32_t* codes = nullptr;    // nItems x maxDepth
  const int32_t* lengths = nullptr;  // nItems, each in [0, maxDepth] when the call is made
  size_t nItems = 0;
  size_t maxDepth = 0;

  // Item i's length as the kernels read it: lengths may be the caller's array (checked at the
  // call, not copied), so a value rewritten during the call is clamped, never followed out of
  // the row (a negative one reads as maxDepth).
  uint32_t length(size_t i) const { return std::min<uint32_t>(uint32_t(lengths[i]), uint32_t(maxDepth)); }
};

inline float prefixSimilarity(const PackedPaths& p, uint32_t i, uint32_t j) {
  const int32_t shorter = int32_t(std::min(p.length(i), p.length(j)));
  if (shorter <= 0) return 0.f;
  const int32_t* a = p.codes + size_t(i) * p.maxDepth;
  const int32_t* b = p.codes + size_t(j) * p.maxDepth;
  int32_t common = 0;
  while (common < shorter && a[common] == b[common]) ++common;
  return float(common) / float(shorter);
}

// Every item's path in one key: the code of level l in bits [l * width, (l + 1) * width), the
// length above the codes. A pair then costs two loads from a table of one key per item and no
// loop: the first differing level is the lowest set bit of the XOR of the keys. Keys are 32
// bits where the paths fit (a table of 400 KB for 100K items stays in a 512 KB L2, and eight
// pairs take one load a key), else 64. similarity() equals prefixSimilarity().
class PathKeys {
 public:
  // False when the paths do not fit in 64-bit keys (large or negative codes, long paths).
  bool build(const PackedPaths& p, int threads);

  float similarity(uint32_t i, uint32_t j) const {
    return narrow_ ? similarityOf(narrowKeys_[i], narrowKeys_[j]) : similarityOf(keys_[i], keys_[j]);
  }
  // out[t] = similarity(a[t], b ? b[t] : item) for t in [begin, end), ids clamped to the
  // keys; eight pairs at a time where AVX2 is available, the same floats. Returns the
  // largest id read before clamping, so the caller checks its ids without a pass of its own.
  uint32_t similarities(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end, float* out) const;

 private:
  // Sets the widest level width that fits `bits`-bit keys with the length above the codes;
  // false when none does (or level() would not be exact).
  bool layout(const PackedPaths& p, unsigned bits);
  // Keys of the current layout for every item; false when a code does not fit its level.
  template <class Key>
  bool fill(const PackedPaths& p, int threads, CachedVector<Key>& keys) const;
  template <class Key>
  float similarityOf(Key a, Key b) const {
    const uint32_t shorter = uint32_t(std::min(a >> shift_, b >> shift_));
    const Key diff = (a ^ b) & Key(pathMask_);
    // Levels at and past the shorter length hold zeros in one key; min() ignores them.
    const uint32_t common = diff ? std::min<uint32_t>(level(lowestBit(diff)), shorter) : shorter;
    return shorter ? float(common) / float(shorter) : 0.f;
  }
  template <class Key>
  uint32_t scalarPairs(const Key* keys, const uint32_t* a, const uint32_t* b, uint32_t item, size_t t, size_t end,
                       float* out) const;
  uint32_t narrowPairs(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end, float* out) const;
  uint32_t widePairs(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end, float* out) const;

  // The level of key bit `bit` < 64, bit / width_, as a multiply and a shift (a division
  // or a table gather costs more in the vector loop); exact, as layout() checks.
  uint32_t level(unsigned bit) const { return (bit * levelFactor_) >> kLevelShift; }
  // The largest id the keys hold (the caller's ids are clamped to it).
  uint32_t lastId() const { return uint32_t((narrow_ ? narrowKeys_.size() : keys_.size()) - 1); }
  static constexpr unsigned kLevelShift = 16;

  // Rebuilt at every call: kept blocks, not fresh pages. One of them holds the keys.
  CachedVector<uint32_t> narrowKeys_;
  CachedVector<uint64_t> keys_;
  bool narrow_ = false;
  unsigned width_ = 1, shift_ = 0;
  uint64_t pathMask_ = 0;
  uint32_t levelFactor_ = 1u << kLevelShift;
};

// sim(i, j) through PathKeys where the paths fit, else prefixSimilarity().
class PathSimilarity {
 public:
  explicit PathSimilarity(const PackedPaths& paths) : paths_(paths), keyed_(keys_.build(paths, 1)) {}
  float operator()(uint32_t i, uint32_t j) const {
    return keyed_ ? keys_.similarity(i, j) : prefixSimilarity(paths_, i, j);
  }

 private:
  PackedPaths paths_;
  PathKeys keys_;
  bool keyed_;
};

// out[t] = sim(a[t], b[t]) for t in [0, count). An id not below paths.nItems throws
// InvalidArgument naming it (as a[t], b[t] or others[t]).
void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out);

// out[t] = sim(item, others[t]) for t in [0, count).
void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out);

}  // namespace dtlns
