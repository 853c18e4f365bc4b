// When to use threads. Every parallel region ends in a barrier, and on a
// machine shared with other jobs a barrier can wait for a descheduled thread,
// so regions are kept for work that is worth it (about a millisecond or more)
// and small work runs on the calling thread.
#pragma once
#include <omp.h>

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

// f(first, last) on one contiguous range of the n rows per thread, the ranges
// of about equal cost(k): a thread then works on the same part of a
// locality-ordered graph in every pass, whose rows its own cache still holds.
template <class Cost, class F>
void forEachBalancedRange(int threads, size_t n, Cost&& cost, F&& f) {
  if (threads <= 1 || n < 2) {
    if (n) f(size_t(0), n);
    return;
  }
  std::vector<size_t> cut(size_t(threads) + 1, n);
  cut[0] = 0;
  double total = 0;
  for (size_t k = 0; k < n; ++k) total += cost(k);
  double sum = 0;
  int t = 1;
  for (size_t k = 0; k < n && t < threads; ++k) {
    sum += cost(k);
    while (t < threads && sum >= total * t / threads) cut[size_t(t++)] = k + 1;
  }
#pragma omp parallel num_threads(threads)
  {
    // The runtime may start fewer threads than asked: each takes its share of the ranges.
    for (size_t part = size_t(omp_get_thread_num()); part < size_t(threads); part += size_t(omp_get_num_threads()))
      if (cut[part] < cut[part + 1]) f(cut[part], cut[part + 1]);
  }
}

}  // namespace dtlns
