// Masked top-K over all items: score = <user, item>, the user's masked items
// (e.g. training interactions) never appear. Order: higher score first, then
// lower item index, so results are exact and reproducible.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dtlns {

struct CsrView {
  const uint32_t* indptr = nullptr;  // rows + 1 entries
  const uint32_t* indices = nullptr;
  size_t rows = 0;
  size_t nnz = 0;  // indices' length: the kernel clamps the row bounds it reads to it
};

constexpr uint32_t kNoItem = 0xFFFFFFFFu;

// outItems/outScores hold nQuery * k entries; rows with fewer than k unmasked
// items are padded with kNoItem and -infinity.
void maskedTopK(const float* userEmb, const float* itemEmb, size_t dim, size_t nItems, const uint32_t* users,
                size_t nQuery, const CsrView* mask, uint32_t k, int threads, uint32_t* outItems, float* outScores);

}  // namespace dtlns
