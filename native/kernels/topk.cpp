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
// Items are scored 16 at a time from a transposed copy (dim x 16 per block), so the
// inner loop is one vector FMA per (user, dim) with no horizontal sums: a GEMM micro-kernel.
constexpr size_t kLanes = 16;

}  // namespace

void maskedTopK(const float* userEmb, const float* itemEmb, size_t dim, size_t nItems, const uint32_t* users,
                size_t nQuery, const CsrView* mask, uint32_t k, int threads, uint32_t* outItems, float* outScores) {
  const float negInf = -std::numeric_limits<float>::infinity();
  const int64_t blocks = int64_t((nQuery + kUserBlock - 1) / kUserBlock);
  const size_t itemBlocks = (nItems + kLanes - 1) / kLanes;
  std::vector<float> packed(itemBlocks * dim * kLanes, 0.f);
  parallelFor(threads, int64_t(itemBlocks), [&](int64_t begin, int64_t end, int) {
    for (int64_t blk = begin; blk < end; ++blk)
      for (size_t lane = 0; lane < kLanes && size_t(blk) * kLanes + lane < nItems; ++lane) {
        const float* it = itemEmb + (size_t(blk) * kLanes + lane) * dim;
        for (size_t d = 0; d < dim; ++d) packed[(size_t(blk) * dim + d) * kLanes + lane] = it[d];
      }
  });
  parallelFor(threads, blocks, [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(kUserBlock * itemBlocks * kLanes);
    std::vector<Entry> heap;
    heap.reserve(k);
    // Min-heap on rank: the root is the worst of the k kept so far.
    auto worse = [](const Entry& a, const Entry& b) { return ranksBefore(a, b); };
    for (int64_t block = begin; block < end; ++block) {
      const size_t q0 = size_t(block) * kUserBlock;
      const size_t nb = std::min(kUserBlock, nQuery - q0);
      const float* u[kUserBlock];
      for (size_t b = 0; b < kUserBlock; ++b) u[b] = userEmb + size_t(users[q0 + std::min(b, nb - 1)]) * dim;
      const size_t stride = itemBlocks * kLanes;
      for (size_t blk = 0; blk < itemBlocks; ++blk) {
        float acc[kUserBlock][kLanes] = {};
        const float* p = packed.data() + blk * dim * kLanes;
        for (size_t d = 0; d < dim; ++d) {
          const float* v = p + d * kLanes;
          for (size_t b = 0; b < kUserBlock; ++b) {
            const float ub = u[b][d];
#pragma omp simd
            for (size_t lane = 0; lane < kLanes; ++lane) acc[b][lane] += ub * v[lane];
          }
        }
        for (size_t b = 0; b < nb; ++b)
          for (size_t lane = 0; lane < kLanes; ++lane) {
            const float s = acc[b][lane];
            scores[b * stride + blk * kLanes + lane] = std::isnan(s) ? negInf : s;
          }
      }
      for (size_t b = 0; b < nb; ++b) {
        float* row = scores.data() + b * itemBlocks * kLanes;
        const uint32_t user = users[q0 + b];
        if (mask && user < mask->rows)
          for (uint32_t p = mask->indptr[user]; p < mask->indptr[user + 1]; ++p) row[mask->indices[p]] = NAN;
        heap.clear();
        for (uint32_t j = 0; j < nItems; ++j) {
          if (std::isnan(row[j])) continue;  // masked
          const Entry e{row[j], j};
          if (heap.size() < k) {
            heap.push_back(e);
            std::push_heap(heap.begin(), heap.end(), worse);
          } else if (ranksBefore(e, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), worse);
            heap.back() = e;
            std::push_heap(heap.begin(), heap.end(), worse);
          }
        }
        std::sort(heap.begin(), heap.end(), ranksBefore);
        uint32_t* oi = outItems + (q0 + b) * k;
        float* os = outScores + (q0 + b) * k;
        for (uint32_t r = 0; r < k; ++r) {
          oi[r] = r < heap.size() ? heap[r].item : kNoItem;
          os[r] = r < heap.size() ? heap[r].score : negInf;
        }
      }
    }
  });
}

}  // namespace dtlns
