// When to use threads. Every parallel region ends in a barrier, and on a
// machine shared with other jobs a barrier can wait for a descheduled thread,
// so regions are kept for work that is worth it (about a quarter of a
// millisecond or more) and small work runs on the calling thread.
#pragma once
#include <omp.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace dtlns {

// Below this many floating-point updates a loop runs on one thread. The
// LightGCN step's scoring, gradient and L2 loops (0.3-0.6 ms each, bound by
// scattered rows) sat below 1 << 20 and left the second thread idle: its
// 2-thread epochs were 1.07x faster at 1 << 18.
constexpr double kMinParallelWork = 1 << 18;

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

// f(first, last) on runs of `run` consecutive indices of [0, n), handed out
// dynamically: the threads finish together however the costs differ, and no
// pass over the costs precedes the work.
template <class F>
void forEachRun(int threads, size_t n, size_t run, F&& f) {
  if (threads <= 1) {
    if (n) f(size_t(0), n);
    return;
  }
  const int64_t runs = int64_t((n + run - 1) / run);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t k = 0; k < runs; ++k) f(size_t(k) * run, std::min(n, size_t(k + 1) * run));
}

}  // namespace dtlns
