#include "kernels/prefix.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512CD__) && defined(__AVX512VL__)
#include <immintrin.h>
#define DTLNS_PREFIX_AVX512 1
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the undefined pass-through operand inside avx512fintrin.h's own
// unmasked intrinsics as (maybe) uninitialized (GCC bug 105593), not anything here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#elif defined(__AVX2__)
#include <immintrin.h>
#define DTLNS_PREFIX_AVX2 1
#endif

#include "kernels/errors.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"

namespace dtlns {
namespace {

// Pairs name random rows of a table that outgrows the caches: the rows are
// fetched this many pairs ahead, so several misses are in flight at once.
constexpr int64_t kPrefetchPairs = 16;
// The scalar pair loop fetches the keys of pairs this far ahead: 1.25x faster on a Zen 3
// EPYC. The vector loops do not: their eight loads a side are already in flight together,
// and the prefetches made them 1.15-1.2x slower there (100K-1M items, 32- and 64-bit keys).
constexpr size_t kKeyAhead = 16;

inline void prefetchPath(const PackedPaths& p, uint32_t item) {
  prefetchWord(p.codes + size_t(item) * p.maxDepth);
  prefetchWord(p.lengths + item);
}

// The id arrays are the caller's (not copied), so an id is clamped once read: a caller that
// rewrites them during the call gets wrong numbers or an error, never a read out of bounds.
inline uint32_t clampId(uint32_t id, size_t nItems) { return std::min<uint32_t>(id, uint32_t(nItems - 1)); }

// Throws InvalidArgument naming the first of ids[0, count) not below nItems, if any.
void expectIds(const uint32_t* ids, size_t count, size_t nItems, const char* name) {
  for (size_t t = 0; t < count; ++t)
    if (ids[t] >= nItems) throw InvalidArgument(idOutOfRange(name, nItems, t, ids[t]));
}

// Building the keys reads every path (nItems x maxDepth codes); a pair then costs a fifth of
// one read from the rows. So keys where there are at least as many pairs as items, and
// maxDepth / 16 times as many for deeper paths: on a Zen 3 EPYC, 1M pairs of 1M items of
// depth 20 took 15 ms through keys and 7 ms from the rows.
constexpr size_t kKeyedDepth = 16;

// Through keys when the pairs pay for building them (above) and the paths fit: the largest
// id read, or nothing (and nothing written) otherwise.
std::optional<uint32_t> keyedPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, uint32_t item,
                                   size_t count, int threads, float* out) {
  PathKeys keys;
  const bool paysOff = count * kKeyedDepth >= paths.nItems * std::max(kKeyedDepth, paths.maxDepth);
  if (paths.nItems == 0 || !paysOff || !keys.build(paths, threads)) return std::nullopt;
  std::vector<uint32_t> largest(size_t(std::max(threads, 1)), 0);
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int thread) {
    largest[size_t(thread)] = keys.similarities(a, b, item, size_t(begin), size_t(end), out);
  });
  return *std::max_element(largest.begin(), largest.end());
}

// The keyed path checks the ids as it reads them, the row path before it starts; either
// way an id out of range is reported by its first position.
template <class Rows>
void checkedPairs(const PackedPaths& paths, const uint32_t* a, const char* aName, const uint32_t* b, uint32_t item,
                  size_t count, int threads, float* out, Rows&& rows) {
  if (count == 0) return;
  const std::optional<uint32_t> largest = keyedPairs(paths, a, b, item, count, threads, out);
  if (!largest || *largest >= paths.nItems) {
    expectIds(a, count, paths.nItems, aName);
    if (b) expectIds(b, count, paths.nItems, "b");
  }
  if (largest && *largest >= paths.nItems)
    throw InvalidArgument(std::string("Expected the ids to stay unchanged during the call, but ") + aName +
                          (b ? " or b" : "") + " held an id >= " + std::to_string(paths.nItems) + " while it ran");
  if (!largest) rows();
}

template <class Pair>
void forPairs(const PackedPaths& paths, size_t count, int threads, float* out, Pair&& pair) {
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      if (t + kPrefetchPairs < end) {
        const auto [i, j] = pair(t + kPrefetchPairs);
        prefetchPath(paths, i);
        prefetchPath(paths, j);
      }
      const auto [i, j] = pair(t);
      out[t] = prefixSimilarity(paths, i, j);
    }
  });
}

#ifdef __AVX2__
// Eight codes from row, zero where `in` is not set: a whole load where it stays inside the
// codes array (see wholeRows), else a masked one.
inline __m256i maskedCodes(const int32_t* row, __m256i in, bool whole) {
  return whole ? _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)), in)
               : _mm256_maskload_epi32(row, in);
}

inline uint32_t orLanes(__m256i v) {
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
  uint32_t all = 0;
  for (const uint32_t lane : lanes) all |= lane;
  return all;
}
#endif

inline unsigned bitWidth(uint64_t v) {
  unsigned w = 0;
  while (v >> w) ++w;
  return w;
}

// Keys are built in blocks of rows, so a code too wide for the layout stops the pass early.
constexpr size_t kFillBlock = 4096;

// Rows [0, wholeRows(p, width)) can be read `width` codes wide without leaving the codes
// array. Those rows are loaded whole and their codes past the length masked after the load:
// a masked load (vpmaskmovd, or an AVX-512 one) is slow on AMD where the row crosses a cache
// line (the key build of 100K rows of depth 7 took 2.2x as long on a Zen 5 EPYC), so only
// the last rows take one.
inline size_t wholeRows(const PackedPaths& p, size_t width) {
  const size_t total = p.nItems * p.maxDepth;
  return total >= width ? (total - width) / p.maxDepth + 1 : 0;
}

// Every level of every row, without a branch on the length (which varies from row to row).
template <class Key>
void scalarRows(const PackedPaths& p, size_t i, size_t end, unsigned width, unsigned shift, uint32_t& codes, Key* keys) {
  for (; i < end; ++i) {
    const int32_t* row = p.codes + i * p.maxDepth;
    const uint32_t length = p.length(i);
    Key key = Key(length) << shift;
    for (size_t l = 0; l < p.maxDepth; ++l) {
      const uint32_t code = l < length ? uint32_t(row[l]) : 0u;
      codes |= code;
      key |= Key(code) << (unsigned(l) * width);
    }
    keys[i] = key;
  }
}

#ifdef DTLNS_PREFIX_AVX512
// 64-bit keys of rows [i, end) (sets i to end), as keyRows below, with AVX-512: a row in
// kLoads loads of 16 codes, its first `length` codes kept (the rest masked to zero), each
// widened and shifted to its level's bits, then OR-ed together. Gathers of a level for eight
// rows made the build 4.7x slower at depth 20 and 11x at depth 40 on a Zen 5 EPYC.
template <size_t kLoads>
uint32_t wideKeyRows(const PackedPaths& p, size_t& i, size_t end, unsigned width, unsigned shift, uint64_t* keys) {
  const __m512i low = _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(width));
  const __m512i eight = _mm512_set1_epi64(8 * width);
  __m512i all = _mm512_setzero_si512();
  const size_t whole = wholeRows(p, 16 * kLoads);
  for (; i < end; ++i) {
    const uint32_t length = p.length(i);
    const uint64_t in = (uint64_t(1) << length) - 1;  // length <= maxDepth < 64
    const int32_t* row = p.codes + i * p.maxDepth;
    __m512i levels = _mm512_setzero_si512(), shift0 = low;
    for (size_t j = 0; j < kLoads; ++j, row += 16) {
      const __mmask16 part = __mmask16(in >> (16 * j));
      // An AND with the mask as a vector: GCC folds a masked move of a load into a masked load.
      const __m512i code = i < whole ? _mm512_and_si512(_mm512_loadu_si512(row), _mm512_movm_epi32(part)) : _mm512_maskz_loadu_epi32(part, row);
      all = _mm512_or_si512(all, code);
      const __m512i shift1 = _mm512_add_epi64(shift0, eight);
      levels = _mm512_or_si512(levels, _mm512_or_si512(_mm512_sllv_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(code)), shift0),
                                                       _mm512_sllv_epi64(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(code, 1)), shift1)));
      shift0 = _mm512_add_epi64(shift1, eight);
    }
    keys[i] = uint64_t(_mm512_reduce_or_epi64(levels)) | (uint64_t(length) << shift);
  }
  return uint32_t(_mm512_reduce_or_epi32(all));
}
#endif

// 64-bit keys of rows [i, end); returns the OR of every code read: a code that does not fit
// the width, or a negative one (bit 31), leaves a bit at or above it.
uint32_t keyRows(const PackedPaths& p, size_t i, size_t end, unsigned width, unsigned shift, uint64_t* keys) {
  uint32_t codes = 0;
#ifdef DTLNS_PREFIX_AVX512
  switch ((p.maxDepth + 15) / 16) {
    case 0:
    case 1: codes |= wideKeyRows<1>(p, i, end, width, shift, keys); break;
    case 2: codes |= wideKeyRows<2>(p, i, end, width, shift, keys); break;
    case 3: codes |= wideKeyRows<3>(p, i, end, width, shift, keys); break;
    default: codes |= wideKeyRows<4>(p, i, end, width, shift, keys); break;  // 64-bit keys hold 58 levels at most
  }
#elif defined(DTLNS_PREFIX_AVX2)
  if (p.maxDepth <= 16) {
    // As above with AVX2: a row's first `length` codes in one or two masked loads (nothing
    // past the length is read), widened to 64 bits, shifted to their levels and OR-ed.
    const bool twoLoads = p.maxDepth > 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i eight = _mm256_set1_epi32(8);
    const __m256i w4 = _mm256_set1_epi64x(4 * width);
    const __m256i s0 = _mm256_mul_epu32(_mm256_setr_epi64x(0, 1, 2, 3), _mm256_set1_epi64x(width));
    const __m256i s1 = _mm256_add_epi64(s0, w4), s2 = _mm256_add_epi64(s1, w4), s3 = _mm256_add_epi64(s2, w4);
    auto levels = [](__m256i code, __m256i low, __m256i high) {
      return _mm256_or_si256(_mm256_sllv_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(code)), low),
                             _mm256_sllv_epi64(_mm256_cvtepu32_epi64(_mm256_extracti128_si256(code, 1)), high));
    };
    __m256i all = _mm256_setzero_si256();
    const size_t whole = wholeRows(p, twoLoads ? 16 : 8);
    for (; i < end; ++i) {
      const uint32_t length = p.length(i);
      const int32_t* row = p.codes + i * p.maxDepth;
      const __m256i code0 = maskedCodes(row, _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(length)), lane), i < whole);
      __m256i key = levels(code0, s0, s1);
      all = _mm256_or_si256(all, code0);
      if (twoLoads) {
        const __m256i code1 = maskedCodes(row + 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(length)), _mm256_add_epi32(lane, eight)), i < whole);
        key = _mm256_or_si256(key, levels(code1, s2, s3));
        all = _mm256_or_si256(all, code1);
      }
      const __m128i half = _mm_or_si128(_mm256_castsi256_si128(key), _mm256_extracti128_si256(key, 1));
      keys[i] = uint64_t(_mm_cvtsi128_si64(_mm_or_si128(half, _mm_unpackhi_epi64(half, half)))) | (uint64_t(length) << shift);
    }
    codes |= orLanes(all);
  }
#endif
  scalarRows(p, i, end, width, shift, codes, keys);
  return codes;
}

// 32-bit keys of rows [i, end), as above.
uint32_t keyRows(const PackedPaths& p, size_t i, size_t end, unsigned width, unsigned shift, uint32_t* keys) {
  uint32_t codes = 0;
#ifdef __AVX2__
  if (p.maxDepth <= 16) {
    // A row's first `length` codes in one or two masked loads (nothing past the length is
    // read), each shifted to its level's bits, then OR-ed: a lane's shift is below 32 for
    // every level < maxDepth, and past it the codes are zeros.
    const bool twoLoads = p.maxDepth > 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i eight = _mm256_add_epi32(lane, _mm256_set1_epi32(8));
    const __m256i s0 = _mm256_mullo_epi32(lane, _mm256_set1_epi32(int32_t(width)));
    const __m256i s1 = _mm256_mullo_epi32(eight, _mm256_set1_epi32(int32_t(width)));
    __m256i all = _mm256_setzero_si256();
    const size_t whole = wholeRows(p, twoLoads ? 16 : 8);
    for (; i < end; ++i) {
      const uint32_t length = p.length(i);
      const int32_t* row = p.codes + i * p.maxDepth;
      const __m256i len = _mm256_set1_epi32(int32_t(length));
      const __m256i code0 = maskedCodes(row, _mm256_cmpgt_epi32(len, lane), i < whole);
      __m256i key = _mm256_sllv_epi32(code0, s0);
      all = _mm256_or_si256(all, code0);
      if (twoLoads) {
        const __m256i code1 = maskedCodes(row + 8, _mm256_cmpgt_epi32(len, eight), i < whole);
        key = _mm256_or_si256(key, _mm256_sllv_epi32(code1, s1));
        all = _mm256_or_si256(all, code1);
      }
      __m128i half = _mm_or_si128(_mm256_castsi256_si128(key), _mm256_extracti128_si256(key, 1));
      half = _mm_or_si128(half, _mm_unpackhi_epi64(half, half));
      half = _mm_or_si128(half, _mm_shuffle_epi32(half, 1));
      keys[i] = uint32_t(_mm_cvtsi128_si32(half)) | (length << shift);
    }
    codes |= orLanes(all);
  }
#endif
  scalarRows(p, i, end, width, shift, codes, keys);
  return codes;
}

}  // namespace

bool PathKeys::layout(const PackedPaths& p, unsigned bits) {
  const unsigned lengthBits = bitWidth(p.maxDepth);
  width_ = p.maxDepth ? unsigned(std::min<size_t>(31, (bits - lengthBits) / p.maxDepth)) : 1;
  if (width_ == 0) return false;
  shift_ = unsigned(p.maxDepth) * width_;
  // ceil(2^16 / width): the rounding error stays below 1/width for every bit < 64.
  levelFactor_ = ((1u << kLevelShift) + width_ - 1) / width_;
  for (unsigned bit = 0; bit < bits; ++bit)
    if (level(bit) != bit / width_) return false;
  pathMask_ = (uint64_t(1) << shift_) - 1;  // shift_ < bits: the length takes at least one bit
  return true;
}

template <class Key>
bool PathKeys::fill(const PackedPaths& p, int threads, CachedVector<Key>& keys) const {
  keys.resize(p.nItems);
  std::atomic<bool> fits{true};
  parallelFor(threads, int64_t(p.nItems), [&](int64_t begin, int64_t end, int) {
    for (size_t i = size_t(begin); i < size_t(end) && fits.load(std::memory_order_relaxed); i += kFillBlock) {
      const size_t stop = std::min(size_t(end), i + kFillBlock);
      if (keyRows(p, i, stop, width_, shift_, keys.data()) >> width_) fits.store(false, std::memory_order_relaxed);
    }
  });
  return fits.load();
}

bool PathKeys::build(const PackedPaths& p, int threads) {
  // One pass over the paths in the common case (no pass for the largest code first): 32-bit
  // keys, and 64-bit ones only where a code or the depth does not fit them.
  narrow_ = layout(p, 32) && fill(p, threads, narrowKeys_);
  if (narrow_) return true;
  CachedVector<uint32_t>().swap(narrowKeys_);  // back to the cache: a sampler keeps its keys for the epoch
  return layout(p, 64) && fill(p, threads, keys_);
}

#ifdef __AVX2__
namespace {

// The ids of pairs [t, t + 8) (b null: `fixed`) clamped to maxId into ia and ib; returns seen
// raised to their largest raw values.
inline __m256i loadEightIds(const uint32_t* a, const uint32_t* b, size_t t, __m256i fixed, __m256i maxId, __m256i seen,
                            uint32_t* ia, uint32_t* ib) {
  const __m256i rawA = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + t));
  const __m256i rawB = b ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + t)) : fixed;
  _mm256_store_si256(reinterpret_cast<__m256i*>(ia), _mm256_min_epu32(rawA, maxId));
  _mm256_store_si256(reinterpret_cast<__m256i*>(ib), _mm256_min_epu32(rawB, maxId));
  return _mm256_max_epu32(seen, _mm256_max_epu32(rawA, rawB));
}

// out[0, 8) = min(level(bit), shorter) / shorter, 0 where shorter is 0. A negative bit (no
// level differs) gives a level above any length: the logical shift of a negative product.
template <unsigned kLevelShift>
inline void storeEight(float* out, __m256i bit, __m256i shorter, __m256i factor) {
  const __m256i common = _mm256_min_epu32(_mm256_srli_epi32(_mm256_mullo_epi32(bit, factor), kLevelShift), shorter);
  const __m256 sim = _mm256_div_ps(_mm256_cvtepi32_ps(common), _mm256_cvtepi32_ps(shorter));
  const __m256i empty = _mm256_cmpeq_epi32(shorter, _mm256_setzero_si256());
  _mm256_storeu_ps(out, _mm256_andnot_ps(_mm256_castsi256_ps(empty), sim));
}

inline uint32_t largestLane(__m256i v) {
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
  return *std::max_element(lanes, lanes + 8);
}

}  // namespace
#endif

uint32_t PathKeys::similarities(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end,
                                float* out) const {
  return narrow_ ? narrowPairs(a, b, item, begin, end, out) : widePairs(a, b, item, begin, end, out);
}

template <class Key>
uint32_t PathKeys::scalarPairs(const Key* keys, const uint32_t* a, const uint32_t* b, uint32_t item, size_t t,
                               size_t end, float* out) const {
  // One running maximum a side, which compile to conditional moves (a branch on
  // max(a[t], b[t]) mispredicts on random ids and stalls the key loads: 5x slower).
  const uint32_t last = lastId();
  uint32_t largestA = 0, largestB = 0;
  for (; t < end; ++t) {
    if (t + kKeyAhead < end) {
      prefetchWord(keys + std::min(a[t + kKeyAhead], last));
      if (b) prefetchWord(keys + std::min(b[t + kKeyAhead], last));
    }
    const uint32_t i = a[t], j = b ? b[t] : item;
    largestA = std::max(largestA, i);
    largestB = std::max(largestB, j);
    out[t] = similarityOf(keys[std::min(i, last)], keys[std::min(j, last)]);
  }
  return std::max(largestA, b ? largestB : 0u);
}

uint32_t PathKeys::narrowPairs(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end,
                               float* out) const {
  uint32_t largest = 0;
  size_t t = begin;
#ifdef __AVX2__
  // Eight pairs in eight 32-bit lanes, the keys a load each (1.16x faster than two gathers of
  // eight on a Zen 3 EPYC, as on the 64-bit loops); the lowest differing bit from the
  // float exponent of diff & -diff (a power of two below 2^31; zero, so the bit -127, where
  // none differs).
  const __m256i maxId = _mm256_set1_epi32(int32_t(lastId()));
  const __m256i fixed = _mm256_set1_epi32(int32_t(std::min(item, lastId())));
  const __m256i mask = _mm256_set1_epi32(int32_t(pathMask_));
  const __m128i shift = _mm_cvtsi32_si128(int(shift_));
  const __m256i factor = _mm256_set1_epi32(int32_t(levelFactor_));
  const __m256i zero = _mm256_setzero_si256();
  const int* keys = reinterpret_cast<const int*>(narrowKeys_.data());
  __m256i seen = zero;
  for (; t + 8 <= end; t += 8) {
    alignas(32) uint32_t ia[8], ib[8];
    seen = loadEightIds(a, b, t, fixed, maxId, seen, ia, ib);
    const __m256i ka = _mm256_setr_epi32(keys[ia[0]], keys[ia[1]], keys[ia[2]], keys[ia[3]], keys[ia[4]], keys[ia[5]], keys[ia[6]], keys[ia[7]]);
    const __m256i kb = _mm256_setr_epi32(keys[ib[0]], keys[ib[1]], keys[ib[2]], keys[ib[3]], keys[ib[4]], keys[ib[5]], keys[ib[6]], keys[ib[7]]);
    const __m256i shorter = _mm256_min_epu32(_mm256_srl_epi32(ka, shift), _mm256_srl_epi32(kb, shift));
    const __m256i diff = _mm256_and_si256(_mm256_xor_si256(ka, kb), mask);
    const __m256i low = _mm256_and_si256(diff, _mm256_sub_epi32(zero, diff));
    const __m256i bit = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(low)), 23),
                                         _mm256_set1_epi32(127));
    storeEight<kLevelShift>(out + t, bit, shorter, factor);
  }
  largest = largestLane(seen);
#endif
  return std::max(largest, scalarPairs(narrowKeys_.data(), a, b, item, t, end, out));
}

uint32_t PathKeys::widePairs(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end,
                             float* out) const {
  uint32_t largest = 0;
  size_t t = begin;
#if defined(DTLNS_PREFIX_AVX512) || defined(DTLNS_PREFIX_AVX2)
  const uint32_t last = lastId();
#endif
#ifdef DTLNS_PREFIX_AVX512
  const __m256i maxId = _mm256_set1_epi32(int32_t(last));
  const __m256i fixed = _mm256_set1_epi32(int32_t(std::min(item, last)));
  const __m512i mask = _mm512_set1_epi64(int64_t(pathMask_));
  const __m128i shift = _mm_cvtsi32_si128(int(shift_));
  const __m512i factor = _mm512_set1_epi64(levelFactor_);
  const long long* keys = reinterpret_cast<const long long*>(keys_.data());
  __m256i seen = _mm256_setzero_si256();
  for (; t + 8 <= end; t += 8) {
    // The keys a load each: two gathers of eight took 8 % longer on an EPYC.
    alignas(32) uint32_t ia[8], ib[8];
    seen = loadEightIds(a, b, t, fixed, maxId, seen, ia, ib);
    const __m512i ka = _mm512_set_epi64(keys[ia[7]], keys[ia[6]], keys[ia[5]], keys[ia[4]], keys[ia[3]], keys[ia[2]], keys[ia[1]], keys[ia[0]]);
    const __m512i kb = _mm512_set_epi64(keys[ib[7]], keys[ib[6]], keys[ib[5]], keys[ib[4]], keys[ib[3]], keys[ib[2]], keys[ib[1]], keys[ib[0]]);
    const __m512i shorter = _mm512_min_epu64(_mm512_srl_epi64(ka, shift), _mm512_srl_epi64(kb, shift));
    const __m512i diff = _mm512_and_si512(_mm512_xor_si512(ka, kb), mask);
    // The lowest set bit of diff: 63 - lzcnt(diff & -diff); lanes without one keep shorter.
    const __m512i low = _mm512_and_si512(diff, _mm512_sub_epi64(_mm512_setzero_si512(), diff));
    const __m512i bit = _mm512_sub_epi64(_mm512_set1_epi64(63), _mm512_lzcnt_epi64(low));
    const __mmask8 differs = _mm512_test_epi64_mask(diff, diff);
    // level(bit) in each lane (a 32 x 32-bit multiply), kept to lanes with a differing bit.
    const __m512i level = _mm512_mask_mov_epi64(shorter, differs, _mm512_srli_epi64(_mm512_mul_epu32(bit, factor), kLevelShift));
    const __m512i common = _mm512_min_epu64(level, shorter);
    const __m256 sim = _mm256_div_ps(_mm512_cvtepu64_ps(common), _mm512_cvtepu64_ps(shorter));
    _mm256_storeu_ps(out + t, _mm256_maskz_mov_ps(_mm512_test_epi64_mask(shorter, shorter), sim));
  }
  largest = largestLane(seen);
#elif defined(DTLNS_PREFIX_AVX2)
  // AVX2 has no 64-bit lzcnt, min or conversion: eight pairs as two vectors of four keys,
  // the lowest differing bit from the float exponent of its 32-bit half, then eight 32-bit
  // lanes. Without it the scalar loop below branched on max(a[t], b[t]), which mispredicts
  // on random ids and stalls the key loads: 5x slower on a Zen 3 EPYC.
  const __m256i maxId = _mm256_set1_epi32(int32_t(last));
  const __m256i fixed = _mm256_set1_epi32(int32_t(std::min(item, last)));
  const __m256i mask = _mm256_set1_epi64x(int64_t(pathMask_));
  const __m128i shift = _mm_cvtsi32_si128(int(shift_));
  const __m256i factor = _mm256_set1_epi32(int32_t(levelFactor_));
  const __m256i zero = _mm256_setzero_si256();
  // A power of two 2^k (k < 32) in a 32-bit lane converts to a float of exponent k + 127 (2^31
  // converts to -2^31, the same exponent); the high half of a key counts 32 more; a zero lane
  // gives a negative result.
  const __m256i bias = _mm256_setr_epi32(127, 95, 127, 95, 127, 95, 127, 95);
  const __m256i pairOrder = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const long long* keys = reinterpret_cast<const long long*>(keys_.data());
  // For four keys of each side: the shorter length and the lowest differing bit (negative when
  // none) of each pair, both in the two 32-bit halves of its 64-bit lane.
  auto quarter = [&](const uint32_t* ia, const uint32_t* ib, __m256i& shorter, __m256i& bit) {
    const __m256i ka = _mm256_setr_epi64x(keys[ia[0]], keys[ia[1]], keys[ia[2]], keys[ia[3]]);
    const __m256i kb = _mm256_setr_epi64x(keys[ib[0]], keys[ib[1]], keys[ib[2]], keys[ib[3]]);
    // Lengths fit 16 bits: a 32-bit min on the low halves, then copied to the high ones.
    shorter = _mm256_shuffle_epi32(_mm256_min_epu32(_mm256_srl_epi64(ka, shift), _mm256_srl_epi64(kb, shift)), 0xA0);
    const __m256i diff = _mm256_and_si256(_mm256_xor_si256(ka, kb), mask);
    const __m256i low = _mm256_and_si256(diff, _mm256_sub_epi64(zero, diff));
    const __m256i exponent = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(low)), 23),
                                              _mm256_set1_epi32(0xff));
    const __m256i halves = _mm256_sub_epi32(exponent, bias);
    bit = _mm256_max_epi32(halves, _mm256_shuffle_epi32(halves, 0xB1));
  };
  __m256i seen = zero;
  for (; t + 8 <= end; t += 8) {
    alignas(32) uint32_t ia[8], ib[8];
    seen = loadEightIds(a, b, t, fixed, maxId, seen, ia, ib);
    __m256i shorter0, bit0, shorter1, bit1;
    quarter(ia, ib, shorter0, bit0);
    quarter(ia + 4, ib + 4, shorter1, bit1);
    // Pairs 0-3 in the even lanes, 4-7 in the odd ones, then in order.
    const __m256i shorter = _mm256_permutevar8x32_epi32(_mm256_blend_epi32(shorter0, shorter1, 0xAA), pairOrder);
    const __m256i bit = _mm256_permutevar8x32_epi32(_mm256_blend_epi32(bit0, bit1, 0xAA), pairOrder);
    storeEight<kLevelShift>(out + t, bit, shorter, factor);
  }
  largest = largestLane(seen);
#endif
  return std::max(largest, scalarPairs(keys_.data(), a, b, item, t, end, out));
}

void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out) {
  const size_t n = paths.nItems;
  checkedPairs(paths, a, "a", b, 0, count, threads, out, [&] {
    forPairs(paths, count, threads, out,
             [=](int64_t t) { return std::pair<uint32_t, uint32_t>(clampId(a[t], n), clampId(b[t], n)); });
  });
}

void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out) {
  const size_t n = paths.nItems;
  checkedPairs(paths, others, "others", nullptr, item, count, threads, out, [&] {
    forPairs(paths, count, threads, out,
             [=](int64_t t) { return std::pair<uint32_t, uint32_t>(item, clampId(others[t], n)); });
  });
}

}  // namespace dtlns
