// The item-item Jaccard co-occurrence graph (kernels/spectral.hpp declares it).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/errors.hpp"
#include "kernels/parallel.hpp"
#include "kernels/parallel_dynamic.hpp"
#include "kernels/spectral.hpp"

namespace dtlns {
namespace {

constexpr int64_t kItemChunk = 256;

// Keeps the k entries with the largest value (ties: the lower column).
void keepTop(std::vector<std::pair<uint32_t, float>>& row, uint32_t k) {
  if (k == 0 || row.size() <= k) return;
  auto better = [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); };
  std::nth_element(row.begin(), row.begin() + k, row.end(), better);
  row.resize(k);
}

// Union of each row with the transposed rows: (i,j) kept when either row has it.
JaccardGraph symmetriseByUnion(const JaccardGraph& g, size_t n) {
  std::vector<uint32_t> inPtr(n + 1, 0);
  for (uint32_t j : g.indices) ++inPtr[j + 1];
  for (size_t i = 0; i < n; ++i) inPtr[i + 1] += inPtr[i];
  std::vector<uint32_t> inIdx(g.indices.size());
  std::vector<float> inVal(g.indices.size());
  std::vector<uint32_t> fill(inPtr.begin(), inPtr.end() - 1);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t k = g.indptr[i]; k < g.indptr[i + 1]; ++k) {
      const uint32_t at = fill[g.indices[k]]++;
      inIdx[at] = uint32_t(i);
      inVal[at] = g.values[k];
    }
  JaccardGraph out;
  out.indptr.assign(n + 1, 0);
  out.indices.reserve(2 * g.indices.size());
  out.values.reserve(2 * g.indices.size());
  for (size_t i = 0; i < n; ++i) {
    uint32_t a = g.indptr[i], b = inPtr[i];
    const uint32_t aEnd = g.indptr[i + 1], bEnd = inPtr[i + 1];
    while (a < aEnd || b < bEnd) {
      if (b == bEnd || (a < aEnd && g.indices[a] < inIdx[b])) {
        out.indices.push_back(g.indices[a]);
        out.values.push_back(g.values[a++]);
      } else if (a == aEnd || inIdx[b] < g.indices[a]) {
        out.indices.push_back(inIdx[b]);
        out.values.push_back(inVal[b++]);
      } else {  // in both: J is symmetric, the values are equal
        out.indices.push_back(g.indices[a]);
        out.values.push_back(g.values[a++]);
        ++b;
      }
    }
    out.indptr[i + 1] = uint32_t(out.indices.size());
  }
  return out;
}

}  // namespace

JaccardGraph jaccardGraph(const uint32_t* indptr, const uint32_t* indices, size_t nUsers, size_t nItems, uint32_t topK,
                          int threads) {
  const size_t nnz = indptr[nUsers];
  std::vector<uint32_t> colPtr(nItems + 1, 0), colUsers(nnz);
  for (size_t k = 0; k < nnz; ++k) ++colPtr[indices[k] + 1];
  for (size_t i = 0; i < nItems; ++i) colPtr[i + 1] += colPtr[i];
  {
    std::vector<uint32_t> fill(colPtr.begin(), colPtr.end() - 1);
    for (size_t u = 0; u < nUsers; ++u)
      for (uint32_t k = indptr[u]; k < indptr[u + 1]; ++k) colUsers[fill[indices[k]]++] = uint32_t(u);
  }
  const int64_t chunks = (int64_t(nItems) + kItemChunk - 1) / kItemChunk;
  const size_t chunkCount = size_t(chunks);
  std::vector<std::vector<uint32_t>> chunkIdx(chunkCount);
  std::vector<std::vector<float>> chunkVal(chunkCount);
  std::vector<uint32_t> rowLength(nItems, 0);
  std::vector<std::vector<uint32_t>> counts(size_t(std::max(1, threads)));
  dynamicFor(threads, chunks, [&](int64_t chunk, int t) {
    std::vector<uint32_t>& count = counts[size_t(t)];
    if (count.empty()) count.assign(nItems, 0);
    std::vector<uint32_t> touched;
    std::vector<std::pair<uint32_t, float>> row;
    const size_t end = std::min(nItems, size_t(chunk + 1) * kItemChunk);
    for (size_t i = size_t(chunk) * kItemChunk; i < end; ++i) {
      touched.clear();
      for (uint32_t a = colPtr[i]; a < colPtr[i + 1]; ++a) {
        const uint32_t u = colUsers[a];
        for (uint32_t k = indptr[u]; k < indptr[u + 1]; ++k) {
          const uint32_t j = indices[k];
          if (j != i && count[j]++ == 0) touched.push_back(j);
        }
      }
      row.clear();
      const double degI = double(colPtr[i + 1] - colPtr[i]);
      for (uint32_t j : touched) {
        const double shared = count[j];
        row.emplace_back(j, float(shared / (degI + double(colPtr[j + 1] - colPtr[j]) - shared)));
        count[j] = 0;
      }
      keepTop(row, topK);
      std::sort(row.begin(), row.end());
      rowLength[i] = uint32_t(row.size());
      for (const auto& [j, v] : row) {
        chunkIdx[size_t(chunk)].push_back(j);
        chunkVal[size_t(chunk)].push_back(v);
      }
    }
  });
  JaccardGraph g;
  g.indptr.assign(nItems + 1, 0);
  size_t total = 0;
  for (size_t i = 0; i < nItems; ++i) {
    total += rowLength[i];
    if (total > 0xFFFFFFFFull) throw std::length_error("the Jaccard graph has more than 2^32 entries: set topK");
    g.indptr[i + 1] = uint32_t(total);
  }
  g.indices.reserve(total);
  g.values.reserve(total);
  for (int64_t c = 0; c < chunks; ++c) {
    g.indices.insert(g.indices.end(), chunkIdx[size_t(c)].begin(), chunkIdx[size_t(c)].end());
    g.values.insert(g.values.end(), chunkVal[size_t(c)].begin(), chunkVal[size_t(c)].end());
    std::vector<uint32_t>().swap(chunkIdx[size_t(c)]);
    std::vector<float>().swap(chunkVal[size_t(c)]);
  }
  return topK > 0 ? symmetriseByUnion(g, nItems) : g;
}

}  // namespace dtlns
