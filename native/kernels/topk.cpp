#include "kernels/topk.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/bits.hpp"
#include "kernels/memory.hpp"
#include "kernels/parallel.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace dtlns {
namespace {

struct Entry {
  float score;
  uint32_t item;
};
// a ranks before b.
inline bool ranksBefore(const Entry& a, const Entry& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
// AVX2 has 16 registers: a tile of 6 users x 16 items takes 12 accumulators, enough for both
// FMA pipes (8 left them waiting on the FMA latency: 1.45x slower on a Zen 3).
constexpr size_t kUserBlock = 6;
#else
constexpr size_t kUserBlock = 8;
#endif
// Items are scored 32 at a time (a panel) from a transposed copy (dim x 32 per panel):
// with AVX-512, 8 users x 2 vectors of 16 lanes = 16 independent accumulators, enough to
// keep both FMA pipes busy, with no horizontal sums: a GEMM micro-kernel.
constexpr size_t kPanel = 32;
// Items are visited in tiles whose packed rows stay in L2 while every user block of a
// thread scores them (bytes of packed item rows per tile).
constexpr size_t kTileBytes = 256 * 1024;
// Running top-k entries kept per thread at most (8 bytes each), whatever k is.
constexpr size_t kMaxKeptEntries = size_t(1) << 20;

// One user's running top-k. Items are offered in ascending order, so a new item
// ranks before the worst kept one exactly when its score is strictly higher:
// once k items are kept, a panel's candidates are the lanes whose score is
// > threshold (NaN compares false), found with one vector comparison; only those
// are pushed. Masked items are found with a cursor over the user's sorted mask row.
class Selection {
 public:
  Selection(Entry* heap, uint32_t k, const uint32_t* mask, const uint32_t* maskEnd)
      : heap_(heap), k_(k), mask_(mask), maskEnd_(maskEnd) {}

  // NaN while fewer than k items are kept: every score compares false against it.
  float threshold() const { return threshold_; }
  bool full() const { return size_ == k_; }

  // Bit l set when item first + l (l < 32) is masked; one step per masked item, none per item.
  uint32_t maskedBits(uint32_t first) {
    const uint32_t* m = mask_;
    while (m != maskEnd_ && *m < first) ++m;
    mask_ = m;
    uint32_t bits = 0;
    for (; m != maskEnd_ && *m - first < kPanel; ++m) bits |= uint32_t(1) << (*m - first);
    return bits;
  }

  // Offers the lanes of `candidates` (unmasked items first + lane, ascending).
  void offer(uint32_t candidates, const float* scores, uint32_t first) {
    auto worse = [](const Entry& a, const Entry& b) { return ranksBefore(a, b); };  // min-heap on rank
    for (; candidates; candidates &= candidates - 1) {
      const uint32_t lane = lowestBit(candidates);
      const float score = scores[lane];
      if (full() && !(score > threshold_)) continue;  // the threshold rose within this panel
      const Entry e{std::isnan(score) ? -std::numeric_limits<float>::infinity() : score, first + lane};
      if (size_ < k_) {
        heap_[size_++] = e;
        std::push_heap(heap_, heap_ + size_, worse);
      } else {
        std::pop_heap(heap_, heap_ + size_, worse);
        heap_[size_ - 1] = e;
        std::push_heap(heap_, heap_ + size_, worse);
      }
      if (full()) threshold_ = heap_[0].score;
    }
  }

  // Best first; rows with fewer than k items padded with kNoItem / -inf.
  void write(uint32_t* outItems, float* outScores) {
    std::sort(heap_, heap_ + size_, ranksBefore);
    for (uint32_t r = 0; r < k_; ++r) {
      outItems[r] = r < size_ ? heap_[r].item : kNoItem;
      outScores[r] = r < size_ ? heap_[r].score : -std::numeric_limits<float>::infinity();
    }
  }

 private:
  Entry* heap_;
  uint32_t k_, size_ = 0;
  float threshold_ = std::numeric_limits<float>::quiet_NaN();
  const uint32_t* mask_;
  const uint32_t* maskEnd_;
};

// scores[b][lane] = <user b, item lane of the panel>, from the block's user rows interleaved
// (u[d * kUserBlock + b]: one base pointer, broadcasts straight from memory, no register spills);
// above[b] = the lanes whose score is > threshold[b] (none where threshold[b] is NaN).
inline void scorePanel(const float* panel, const float* u, size_t dim, const float* threshold,
                       float (*scores)[kPanel], uint32_t* above) {
#if defined(__AVX512F__)
  __m512 lo[kUserBlock], hi[kUserBlock];
  for (size_t b = 0; b < kUserBlock; ++b) lo[b] = hi[b] = _mm512_setzero_ps();
  for (size_t d = 0; d < dim; ++d) {
    const __m512 v0 = _mm512_loadu_ps(panel + d * kPanel), v1 = _mm512_loadu_ps(panel + d * kPanel + 16);
    for (size_t b = 0; b < kUserBlock; ++b) {
      const __m512 ub = _mm512_set1_ps(u[d * kUserBlock + b]);
      lo[b] = _mm512_fmadd_ps(ub, v0, lo[b]);
      hi[b] = _mm512_fmadd_ps(ub, v1, hi[b]);
    }
  }
  for (size_t b = 0; b < kUserBlock; ++b) {
    _mm512_storeu_ps(scores[b], lo[b]);
    _mm512_storeu_ps(scores[b] + 16, hi[b]);
    const __m512 t = _mm512_set1_ps(threshold[b]);
    above[b] = uint32_t(_mm512_cmp_ps_mask(lo[b], t, _CMP_GT_OQ)) |
               uint32_t(_mm512_cmp_ps_mask(hi[b], t, _CMP_GT_OQ)) << 16;
  }
#elif defined(__AVX2__) && defined(__FMA__)
  // Sixteen 8-lane registers: the block's 6 users by 16 items at a time (12 accumulators, two
  // panel loads, a broadcast) over every d; the panel (dim x 32 floats) stays in L1. Each lane
  // sums its products in d order, as above: the same scores.
  constexpr size_t kItems = 16;
  for (size_t b = 0; b < kUserBlock; ++b) above[b] = 0;
  for (size_t i0 = 0; i0 < kPanel; i0 += kItems) {
    __m256 lo[kUserBlock], hi[kUserBlock];
    for (size_t b = 0; b < kUserBlock; ++b) lo[b] = hi[b] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (size_t d = 0; d < dim; ++d) {
      const __m256 v0 = _mm256_loadu_ps(panel + d * kPanel + i0), v1 = _mm256_loadu_ps(panel + d * kPanel + i0 + 8);
      for (size_t b = 0; b < kUserBlock; ++b) {
        const __m256 ub = _mm256_broadcast_ss(u + d * kUserBlock + b);
        lo[b] = _mm256_fmadd_ps(ub, v0, lo[b]);
        hi[b] = _mm256_fmadd_ps(ub, v1, hi[b]);
      }
    }
    for (size_t b = 0; b < kUserBlock; ++b) {
      _mm256_storeu_ps(scores[b] + i0, lo[b]);
      _mm256_storeu_ps(scores[b] + i0 + 8, hi[b]);
      const __m256 t = _mm256_set1_ps(threshold[b]);
      const uint32_t bits = uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(lo[b], t, _CMP_GT_OQ))) |
                            uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(hi[b], t, _CMP_GT_OQ))) << 8;
      above[b] |= bits << i0;
    }
  }
#else
  for (size_t b = 0; b < kUserBlock; ++b) {
    float* acc = scores[b];
    for (size_t lane = 0; lane < kPanel; ++lane) acc[lane] = 0.f;
    for (size_t d = 0; d < dim; ++d) {
      const float ub = u[d * kUserBlock + b];
      const float* v = panel + d * kPanel;
#pragma omp simd
      for (size_t lane = 0; lane < kPanel; ++lane) acc[lane] += ub * v[lane];
    }
    uint32_t bits = 0;
    for (size_t lane = 0; lane < kPanel; ++lane) bits |= uint32_t(acc[lane] > threshold[b]) << lane;
    above[b] = bits;
  }
#endif
}

// Scores panels [p0, p1) for the nb users from b0 and offers the candidates to their selections.
void scoreTile(const float* packed, const float* userEmb, const uint32_t* users, size_t dim, size_t nItems, size_t b0,
               size_t nb, size_t p0, size_t p1, Selection* selections, float* u) {
  for (size_t b = 0; b < kUserBlock; ++b) {
    const float* row = userEmb + size_t(users[b0 + std::min(b, nb - 1)]) * dim;
    for (size_t d = 0; d < dim; ++d) u[d * kUserBlock + b] = row[d];
  }
  alignas(64) float scores[kUserBlock][kPanel];
  float threshold[kUserBlock];
  uint32_t above[kUserBlock];
  for (size_t p = p0; p < p1; ++p) {
    for (size_t b = 0; b < nb; ++b) threshold[b] = selections[b].threshold();
    for (size_t b = nb; b < kUserBlock; ++b) threshold[b] = std::numeric_limits<float>::quiet_NaN();
    scorePanel(packed + p * dim * kPanel, u, dim, threshold, scores, above);
    const uint32_t first = uint32_t(p * kPanel);
    const size_t lanes = std::min(kPanel, nItems - first);
    const uint32_t valid = lanes == kPanel ? ~uint32_t(0) : (uint32_t(1) << lanes) - 1;
    for (size_t b = 0; b < nb; ++b) {
      Selection& s = selections[b];
      uint32_t candidates = (s.full() ? above[b] : ~uint32_t(0)) & valid;
      if (!candidates) continue;
      candidates &= ~s.maskedBits(first);
      s.offer(candidates, scores[b], first);
    }
  }
}

}  // namespace

void maskedTopK(const float* userEmb, const float* itemEmb, size_t dim, size_t nItems, const uint32_t* users,
                size_t nQuery, const CsrView* mask, uint32_t k, int threads, uint32_t* outItems, float* outScores) {
  const int64_t blocks = int64_t((nQuery + kUserBlock - 1) / kUserBlock);
  const size_t panels = (nItems + kPanel - 1) / kPanel;
  // Every lane is written (the padding lanes of the last panel with zeros), so no zero-fill pass.
  HugeBuffer packed(panels * dim * kPanel);
  parallelFor(threads, int64_t(panels), [&](int64_t begin, int64_t end, int) {
    for (size_t p = size_t(begin); p < size_t(end); ++p) {
      float* out = packed.data() + p * dim * kPanel;
      for (size_t lane = 0; lane < kPanel; ++lane) {
        const size_t item = p * kPanel + lane;
        if (item < nItems)
          for (size_t d = 0; d < dim; ++d) out[d * kPanel + lane] = itemEmb[item * dim + d];
        else
          for (size_t d = 0; d < dim; ++d) out[d * kPanel + lane] = 0.f;
      }
    }
  });
  const size_t tilePanels = std::max<size_t>(1, kTileBytes / (dim * kPanel * sizeof(float)));
  // Users whose running top-k are kept at once (a multiple of the user block),
  // so that memory stays bounded for any k.
  const size_t kept = std::max<size_t>(1, std::min<size_t>(k, nItems));
  const size_t superUsers = std::max<size_t>(1, kMaxKeptEntries / kept / kUserBlock) * kUserBlock;
  parallelFor(threads, blocks, [&](int64_t begin, int64_t end, int) {
    const size_t first = size_t(begin) * kUserBlock, last = std::min(nQuery, size_t(end) * kUserBlock);
    std::vector<uint32_t> maskItems;
    std::vector<size_t> maskStart;
    std::vector<Entry> heaps;
    std::vector<Selection> selections;
    std::vector<float> userRows(dim * kUserBlock);
    for (size_t q0 = first; q0 < last; q0 += superUsers) {
      const size_t q1 = std::min(last, q0 + superUsers);
      maskItems.clear();
      maskStart.assign(q1 - q0 + 1, 0);
      for (size_t q = q0; q < q1; ++q) {
        const uint32_t user = users[q];
        if (mask && user < mask->rows) {
          const size_t from = maskItems.size();
          // The caller's arrays, checked at the call: bounds rewritten since are clamped, not followed.
          const size_t end = std::min<size_t>(mask->indptr[user + 1], mask->nnz);
          maskItems.insert(maskItems.end(), mask->indices + std::min<size_t>(mask->indptr[user], end), mask->indices + end);
          std::sort(maskItems.begin() + int64_t(from), maskItems.end());
        }
        maskStart[q - q0 + 1] = maskItems.size();
      }
      heaps.resize((q1 - q0) * kept);
      selections.clear();
      for (size_t q = q0; q < q1; ++q)
        selections.emplace_back(heaps.data() + (q - q0) * kept, k, maskItems.data() + maskStart[q - q0],
                                maskItems.data() + maskStart[q - q0 + 1]);
      for (size_t t0 = 0; t0 < panels; t0 += tilePanels) {
        const size_t t1 = std::min(panels, t0 + tilePanels);
        for (size_t b0 = q0; b0 < q1; b0 += kUserBlock)
          scoreTile(packed.data(), userEmb, users, dim, nItems, b0, std::min(kUserBlock, q1 - b0), t0, t1,
                    selections.data() + (b0 - q0), userRows.data());
      }
      for (size_t q = q0; q < q1; ++q) selections[q - q0].write(outItems + q * k, outScores + q * k);
    }
  });
}

}  // namespace dtlns
