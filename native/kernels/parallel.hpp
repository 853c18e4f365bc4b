// Static-partition parallel loops over OpenMP. Kernels never let an exception
// cross an OpenMP region: the first one is kept and rethrown after the join.
#pragma once
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <omp.h>

namespace dtlns {

// Calls f(begin, end, thread) on `threads` contiguous, equal slices of [0, n).
// The partition depends only on n and threads, so results are reproducible.
template <class F>
void parallelFor(int threads, int64_t n, F&& f) {
  if (n <= 0) return;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::min<int64_t>(n, 1 << 16))));
  if (threads == 1) {
    f(int64_t{0}, n, 0);
    return;
  }
  std::exception_ptr failure;
  std::mutex failureLock;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int64_t begin = n * t / nt;
    const int64_t end = n * (t + 1) / nt;
    try {
      if (begin < end) f(begin, end, t);
    } catch (...) {
      std::lock_guard<std::mutex> guard(failureLock);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace dtlns
