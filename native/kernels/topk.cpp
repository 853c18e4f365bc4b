#include "kernels/topk.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/parallel.hpp"

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

constexpr size_t kUserBlock = 8;
// Items are scored 16 at a time from a transposed copy (dim x 16 per group), so the
// inner loop is one vector FMA per (user, dim) with no horizontal sums: a GEMM micro-kernel.
constexpr size_t kLanes = 16;
// Items are visited in tiles whose packed rows stay in L2 while every user block of a
// thread scores them (bytes of packed item rows per tile).
constexpr size_t kTileBytes = 256 * 1024;
// Running top-k entries kept per thread at most (8 bytes each), whatever k is.
constexpr size_t kMaxKeptEntries = size_t(1) << 20;

// One user's running top-k. Items are offered in ascending order, so a new item
// ranks before the worst kept one exactly when its score is strictly higher:
// once k items are kept, a group of scores that are all <= threshold (or NaN,
// which compares false) is rejected with one vector comparison and no branch per
// item. Masked items are found with a cursor over the user's sorted mask row.
class Selection {
 public:
  Selection(Entry* heap, uint32_t k, const uint32_t* mask, const uint32_t* maskEnd)
      : heap_(heap), k_(k), mask_(mask), maskEnd_(maskEnd) {}

  // NaN while fewer than k items are kept: every score compares false against it.
  float threshold() const { return threshold_; }
  bool full() const { return size_ == k_; }

  void offer(float score, uint32_t item) {
    if (full() && !(score > threshold_)) return;
    while (mask_ != maskEnd_ && *mask_ < item) ++mask_;
    if (mask_ != maskEnd_ && *mask_ == item) return;
    const Entry e{std::isnan(score) ? -std::numeric_limits<float>::infinity() : score, item};
    auto worse = [](const Entry& a, const Entry& b) { return ranksBefore(a, b); };  // min-heap on rank
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

// Scores item groups [g0, g1) for the nb users from b0 and offers them to their selections.
void scoreTile(const float* packed, const float* userEmb, const uint32_t* users, size_t dim, size_t nItems, size_t b0,
               size_t nb, size_t g0, size_t g1, Selection* selections) {
  const float* u[kUserBlock];
  for (size_t b = 0; b < kUserBlock; ++b) u[b] = userEmb + size_t(users[b0 + std::min(b, nb - 1)]) * dim;
  for (size_t g = g0; g < g1; ++g) {
    float acc[kUserBlock][kLanes] = {};
    const float* p = packed + g * dim * kLanes;
    for (size_t d = 0; d < dim; ++d) {
      const float* v = p + d * kLanes;
      for (size_t b = 0; b < kUserBlock; ++b) {
        const float ub = u[b][d];
#pragma omp simd
        for (size_t lane = 0; lane < kLanes; ++lane) acc[b][lane] += ub * v[lane];
      }
    }
    const uint32_t first = uint32_t(g * kLanes);
    const size_t lanes = std::min(kLanes, nItems - first);
    for (size_t b = 0; b < nb; ++b) {
      Selection& s = selections[b];
      if (s.full()) {
        const float threshold = s.threshold();
        int above = 0;
#pragma omp simd reduction(| : above)
        for (size_t lane = 0; lane < kLanes; ++lane) above |= int(acc[b][lane] > threshold);
        if (!above) continue;
      }
      for (size_t lane = 0; lane < lanes; ++lane) s.offer(acc[b][lane], first + uint32_t(lane));
    }
  }
}

}  // namespace

void maskedTopK(const float* userEmb, const float* itemEmb, size_t dim, size_t nItems, const uint32_t* users,
                size_t nQuery, const CsrView* mask, uint32_t k, int threads, uint32_t* outItems, float* outScores) {
  const int64_t blocks = int64_t((nQuery + kUserBlock - 1) / kUserBlock);
  const size_t groups = (nItems + kLanes - 1) / kLanes;
  std::vector<float> packed(groups * dim * kLanes, 0.f);
  parallelFor(threads, int64_t(groups), [&](int64_t begin, int64_t end, int) {
    for (int64_t g = begin; g < end; ++g)
      for (size_t lane = 0; lane < kLanes && size_t(g) * kLanes + lane < nItems; ++lane) {
        const float* it = itemEmb + (size_t(g) * kLanes + lane) * dim;
        for (size_t d = 0; d < dim; ++d) packed[(size_t(g) * dim + d) * kLanes + lane] = it[d];
      }
  });
  const size_t tileGroups = std::max<size_t>(1, kTileBytes / (dim * kLanes * sizeof(float)));
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
    for (size_t q0 = first; q0 < last; q0 += superUsers) {
      const size_t q1 = std::min(last, q0 + superUsers);
      maskItems.clear();
      maskStart.assign(q1 - q0 + 1, 0);
      for (size_t q = q0; q < q1; ++q) {
        const uint32_t user = users[q];
        if (mask && user < mask->rows) {
          const size_t from = maskItems.size();
          maskItems.insert(maskItems.end(), mask->indices + mask->indptr[user], mask->indices + mask->indptr[user + 1]);
          std::sort(maskItems.begin() + int64_t(from), maskItems.end());
        }
        maskStart[q - q0 + 1] = maskItems.size();
      }
      heaps.resize((q1 - q0) * kept);
      selections.clear();
      for (size_t q = q0; q < q1; ++q)
        selections.emplace_back(heaps.data() + (q - q0) * kept, k, maskItems.data() + maskStart[q - q0],
                                maskItems.data() + maskStart[q - q0 + 1]);
      for (size_t t0 = 0; t0 < groups; t0 += tileGroups) {
        const size_t t1 = std::min(groups, t0 + tileGroups);
        for (size_t b0 = q0; b0 < q1; b0 += kUserBlock)
          scoreTile(packed.data(), userEmb, users, dim, nItems, b0, std::min(kUserBlock, q1 - b0), t0, t1,
                    selections.data() + (b0 - q0));
      }
      for (size_t q = q0; q < q1; ++q) selections[q - q0].write(outItems + q * k, outScores + q * k);
    }
  });
}

}  // namespace dtlns
