// The one thread that runs every kernel call of more than one thread.
//
// libgomp keeps a team of OpenMP threads per thread that opens a parallel region, and libuv
// hands each call to any of its four pool threads: so calls in turn woke different teams, whose
// threads the kernel scheduler placed anew each time (often beside the caller, on the core it
// was using). Run from one thread, a multi-threaded call always meets the same team on the same
// cores: a 2-thread prefix-similarity call of 1M pairs took 0.7-0.85 ms instead of 1.0-1.2 ms
// on a 2-core EPYC. Calls of one thread stay on libuv's threads and run side by side.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace dtlns::binding {

class TeamThread {
 public:
  // Runs job on the team thread and returns when it has finished, rethrowing what it threw.
  // Calls queue behind each other (each uses all its threads anyway). Where no thread can be
  // started, job runs on the calling thread.
  static void run(const std::function<void()>& job) {
    TeamThread* team = instance();
    if (!team) return job();
    Job pending{job, false, nullptr};
    std::unique_lock<std::mutex> lock(team->mutex_);
    team->queue_.push_back(&pending);
    team->work_.notify_one();
    team->finished_.wait(lock, [&] { return pending.done; });
    if (pending.failure) std::rethrow_exception(pending.failure);
  }

 private:
  struct Job {
    const std::function<void()>& run;
    bool done = false;
    std::exception_ptr failure;
  };

  // Never destroyed, its thread never joined: a process that exits during a call must not
  // wait for it.
  static TeamThread* instance() {
    static TeamThread* team = start();
    return team;
  }
  static TeamThread* start() {
    auto* team = new TeamThread();
    try {
      std::thread([team] { team->loop(); }).detach();
      return team;
    } catch (const std::exception&) {  // no thread to be had: callers run their jobs themselves
      delete team;
      return nullptr;
    }
  }
  [[noreturn]] void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return !queue_.empty(); });
      Job* job = queue_.front();
      queue_.pop_front();
      lock.unlock();
      try {
        job->run();
      } catch (...) {
        job->failure = std::current_exception();
      }
      lock.lock();
      job->done = true;
      finished_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_, finished_;
  std::deque<Job*> queue_;
};

}  // namespace dtlns::binding
