// When to use threads. Every parallel region ends in a barrier, and on a
// machine shared with other jobs a barrier can wait for a descheduled thread,
// so regions are kept for work that is worth it (about a millisecond or more)
// and small work runs on the calling thread.
#pragma once
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace dtlns {

// Below this many floating-point updates a loop runs on one thread.
constexpr double kMinParallelWork = 1 << 20;

inline int threadsFor(int threads, double work) { return work < kMinParallelWork ? 1 : threads; }

// f(row) for each listed row, rows handed out dynamically (their costs differ
// wildly, e.g. popular items); results must not depend on which thread runs a row.
template <class F>
void forEachRow(int threads, const std::vector<uint32_t>& rows, F&& f) {
  const int64_t n = int64_t(rows.size());
  if (threads <= 1) {
    for (int64_t k = 0; k < n; ++k) f(rows[size_t(k)]);
    return;
  }
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
  for (int64_t k = 0; k < n; ++k) f(rows[size_t(k)]);
}

// forEachRow() for kernels that look ahead across rows: f(first, last) on
// consecutive index ranges of the n rows, handed out the same way.
template <class F>
void forEachRowRange(int threads, size_t n, F&& f) {
  constexpr size_t kChunk = 64;
  if (threads <= 1) {
    f(size_t(0), n);
    return;
  }
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t c = 0; c < chunks; ++c) f(size_t(c) * kChunk, std::min(n, size_t(c + 1) * kChunk));
}

}  // namespace dtlns
