#include "kernels/prefix.hpp"

#include <atomic>
#include <utility>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512CD__) && defined(__AVX512VL__)
#include <immintrin.h>
#define DTLNS_PREFIX_AVX512 1
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the undefined pass-through operand inside avx512fintrin.h's own
// unmasked intrinsics as maybe uninitialized (GCC bug 105593), not anything here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"

namespace dtlns {
namespace {

// Pairs name random rows of a table that outgrows the caches: the rows are
// fetched this many pairs ahead, so several misses are in flight at once.
constexpr int64_t kPrefetchPairs = 16;

inline void prefetchPath(const PackedPaths& p, uint32_t item) {
  prefetchWord(p.codes + size_t(item) * p.maxDepth);
  prefetchWord(p.lengths + item);
}

// Ids were checked when the call was made; the arrays are the caller's (not copied), so an id
// is clamped once read: a caller that rewrites them during the call gets wrong numbers, never a
// read out of bounds.
inline uint32_t clampId(uint32_t id, size_t nItems) { return std::min<uint32_t>(id, uint32_t(nItems - 1)); }

// Through 64-bit keys when there are at least as many pairs as items and the paths
// fit; false (nothing written) otherwise.
bool keyedPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, uint32_t item, size_t count,
                int threads, float* out) {
  PathKeys keys;
  if (count < paths.nItems || !keys.build(paths, threads)) return false;
  parallelFor(threads, int64_t(count), [&](int64_t begin, int64_t end, int) {
    keys.similarities(a, b, item, size_t(begin), size_t(end), out);
  });
  return true;
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

inline unsigned bitWidth(uint64_t v) {
  unsigned w = 0;
  while (v >> w) ++w;
  return w;
}

}  // namespace

bool PathKeys::build(const PackedPaths& p, int threads) {
  // The largest code over the whole table (padding included: a padding above the codes
  // only widens the levels, and paths that then do not fit take the row kernel).
  int32_t maxCode = 0;
  for (size_t k = 0; k < p.nItems * p.maxDepth; ++k) maxCode = std::max(maxCode, p.codes[k]);
  width_ = std::max(1u, bitWidth(uint32_t(maxCode)));
  shift_ = unsigned(p.maxDepth) * width_;
  if (shift_ + bitWidth(p.maxDepth) > 64) return false;
  for (unsigned bit = 0; bit < 64; ++bit) level_[bit] = int64_t(bit / width_);
  keys_.resize(p.nItems);
  std::atomic<bool> negative{false};
  parallelFor(threads, int64_t(p.nItems), [&](int64_t begin, int64_t end, int) {
    // Every level of every row, without a branch on the length (which varies from row to row).
    bool bad = false;
    size_t i = size_t(begin);
#ifdef DTLNS_PREFIX_AVX512
    // Eight rows at a time, a gather a level.
    const __m256i step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int32_t(p.maxDepth)));
    for (; i + 8 <= size_t(end) && (i + 8) * p.maxDepth < (size_t(1) << 31); i += 8) {
      const __m256i length = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.lengths + i));
      const __m256i base = _mm256_add_epi32(_mm256_set1_epi32(int32_t(i * p.maxDepth)), step);
      __m512i key = _mm512_sll_epi64(_mm512_cvtepu32_epi64(length), _mm_cvtsi32_si128(int(shift_)));
      __mmask8 negatives = 0;
      for (size_t l = 0; l < p.maxDepth; ++l) {
        const __mmask8 in = _mm256_cmpgt_epi32_mask(length, _mm256_set1_epi32(int32_t(l)));
        const __m256i code = _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), in,
                                                          _mm256_add_epi32(base, _mm256_set1_epi32(int32_t(l))), p.codes, 4);
        negatives |= _mm256_cmplt_epi32_mask(code, _mm256_setzero_si256());
        key = _mm512_or_si512(key, _mm512_sll_epi64(_mm512_cvtepu32_epi64(code), _mm_cvtsi32_si128(int(l * width_))));
      }
      bad |= negatives != 0;
      _mm512_storeu_si512(keys_.data() + i, key);
    }
#endif
    for (; i < size_t(end); ++i) {
      const int32_t* row = p.codes + i * p.maxDepth;
      const int32_t length = p.lengths[i];
      uint64_t key = uint64_t(length) << shift_;
      for (size_t l = 0; l < p.maxDepth; ++l) {
        const bool in = int32_t(l) < length;
        bad |= in & (row[l] < 0);
        key |= uint64_t(in ? uint32_t(row[l]) : 0u) << (unsigned(l) * width_);
      }
      keys_[i] = key;
    }
    if (bad) negative.store(true, std::memory_order_relaxed);
  });
  if (negative.load()) return false;
  pathMask_ = (uint64_t(1) << shift_) - 1;  // shift_ < 64: the length takes at least one bit
  return true;
}

void PathKeys::similarities(const uint32_t* a, const uint32_t* b, uint32_t item, size_t begin, size_t end,
                            float* out) const {
  const uint32_t last = uint32_t(keys_.size() - 1);
  size_t t = begin;
#ifdef DTLNS_PREFIX_AVX512
  const __m256i maxId = _mm256_set1_epi32(int32_t(last));
  const __m256i fixed = _mm256_set1_epi32(int32_t(std::min(item, last)));
  const __m512i mask = _mm512_set1_epi64(int64_t(pathMask_));
  const __m128i shift = _mm_cvtsi32_si128(int(shift_));
  const long long* keys = reinterpret_cast<const long long*>(keys_.data());
  const long long* levels = reinterpret_cast<const long long*>(level_);
  for (; t + 8 <= end; t += 8) {
    const __m256i ia = _mm256_min_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + t)), maxId);
    const __m256i ib = b ? _mm256_min_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + t)), maxId) : fixed;
    const __m512i ka = _mm512_i32gather_epi64(ia, keys, 8), kb = _mm512_i32gather_epi64(ib, keys, 8);
    const __m512i shorter = _mm512_min_epu64(_mm512_srl_epi64(ka, shift), _mm512_srl_epi64(kb, shift));
    const __m512i diff = _mm512_and_si512(_mm512_xor_si512(ka, kb), mask);
    // The lowest set bit of diff: 63 - lzcnt(diff & -diff); lanes without one keep shorter.
    const __m512i low = _mm512_and_si512(diff, _mm512_sub_epi64(_mm512_setzero_si512(), diff));
    const __m512i bit = _mm512_sub_epi64(_mm512_set1_epi64(63), _mm512_lzcnt_epi64(low));
    const __mmask8 differs = _mm512_test_epi64_mask(diff, diff);
    const __m512i level = _mm512_mask_i64gather_epi64(shorter, differs, bit, levels, 8);
    const __m512i common = _mm512_min_epu64(level, shorter);
    const __m256 sim = _mm256_div_ps(_mm512_cvtepu64_ps(common), _mm512_cvtepu64_ps(shorter));
    _mm256_storeu_ps(out + t, _mm256_maskz_mov_ps(_mm512_test_epi64_mask(shorter, shorter), sim));
  }
#endif
  for (; t < end; ++t) out[t] = similarity(std::min(a[t], last), b ? std::min(b[t], last) : std::min(item, last));
}

void prefixSimilarityPairs(const PackedPaths& paths, const uint32_t* a, const uint32_t* b, size_t count, int threads,
                           float* out) {
  if (count == 0 || keyedPairs(paths, a, b, 0, count, threads, out)) return;
  const size_t n = paths.nItems;
  forPairs(paths, count, threads, out,
           [=](int64_t t) { return std::pair<uint32_t, uint32_t>(clampId(a[t], n), clampId(b[t], n)); });
}

void prefixSimilarityOneToMany(const PackedPaths& paths, uint32_t item, const uint32_t* others, size_t count,
                               int threads, float* out) {
  if (count == 0 || keyedPairs(paths, others, nullptr, item, count, threads, out)) return;
  const size_t n = paths.nItems;
  forPairs(paths, count, threads, out,
           [=](int64_t t) { return std::pair<uint32_t, uint32_t>(item, clampId(others[t], n)); });
}

}  // namespace dtlns
