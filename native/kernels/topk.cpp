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

}  // namespace

void maskedTopK(const float* userEmb, const float* itemEmb, size_t dim, size_t nItems, const uint32_t* users,
                size_t nQuery, const CsrView* mask, uint32_t k, int threads, uint32_t* outItems, float* outScores) {
  const float negInf = -std::numeric_limits<float>::infinity();
  const int64_t blocks = int64_t((nQuery + kUserBlock - 1) / kUserBlock);
  parallelFor(threads, blocks, [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(kUserBlock * nItems);
    std::vector<Entry> heap;
    heap.reserve(k);
    // Min-heap on rank: the root is the worst of the k kept so far.
    auto worse = [](const Entry& a, const Entry& b) { return ranksBefore(a, b); };
    for (int64_t block = begin; block < end; ++block) {
      const size_t q0 = size_t(block) * kUserBlock;
      const size_t nb = std::min(kUserBlock, nQuery - q0);
      for (size_t j = 0; j < nItems; ++j) {
        const float* it = itemEmb + j * dim;
        for (size_t b = 0; b < nb; ++b) {
          const float* u = userEmb + size_t(users[q0 + b]) * dim;
          float s = 0.f;
#pragma omp simd reduction(+ : s)
          for (size_t d = 0; d < dim; ++d) s += u[d] * it[d];
          scores[b * nItems + j] = std::isnan(s) ? negInf : s;
        }
      }
      for (size_t b = 0; b < nb; ++b) {
        float* row = scores.data() + b * nItems;
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
