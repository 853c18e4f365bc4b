// Dynamically scheduled parallel loops, for work items of uneven cost (tree
// nodes of different sizes, popular items). Kernels keep results independent
// of which thread runs an item, so they stay reproducible.
#pragma once
#include <omp.h>

#include <cstdint>
#include <exception>
#include <mutex>

namespace dtlns {

// f(index, thread) for index in [0, count), thread < threads. The first
// exception is rethrown after the join.
template <class F>
void dynamicFor(int threads, int64_t count, F&& f) {
  if (count <= 0) return;
  if (threads <= 1 || count == 1) {
    for (int64_t i = 0; i < count; ++i) f(i, 0);
    return;
  }
  std::exception_ptr failure;
  std::mutex failureLock;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t i = 0; i < count; ++i) {
    try {
      f(i, omp_get_thread_num());
    } catch (...) {
      std::lock_guard<std::mutex> guard(failureLock);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace dtlns
