#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include "pstable/core/threads.hpp"

namespace pstable::detail {

/// Test seam (not public API): when >= 0, a ThreadPool behaves as if the operating system refused
/// every thread after it holds this many workers. Tests set it to check the fallback; the library
/// never does.
inline std::atomic<int> spawn_limit_for_testing{-1};

/// num_threads as parallel_for runs it: 0 = the global default (get_num_threads()), larger
/// values capped at kMaxThreads.
inline int resolve_threads(int num_threads) {
  return num_threads > 0 ? std::min(num_threads, kMaxThreads) : get_num_threads();
}

/// Worker threads kept for the life of the pool and shared by every parallel_for call that uses
/// it, so a batch call creates no thread once the pool has grown to its size. A call runs one
/// slice on the calling thread, queues the others, and claims queued slices itself while no
/// worker has taken them: it never waits for a slice nobody runs, even with every worker busy
/// with other calls, none created, or none alive (the child of a fork).
class ThreadPool {
 public:
  ThreadPool() { workers_.reserve(static_cast<std::size_t>(kMaxThreads)); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// The pool parallel_for uses by default, created at first use and never destroyed (joining
  /// threads during static destruction or DLL unload can deadlock). A child of fork() gets a
  /// fresh one: its parent's workers do not exist in the child.
  static ThreadPool& global() {
    static const bool registered = [] {
#if defined(__unix__) || defined(__APPLE__)
      ::pthread_atfork(nullptr, nullptr, [] { global_slot().store(nullptr); });
#endif
      return true;
    }();
    (void)registered;
    ThreadPool* pool = global_slot().load();
    if (pool != nullptr) return *pool;
    auto* fresh = new ThreadPool();  // no workers yet: deleting a loser is cheap and safe
    if (global_slot().compare_exchange_strong(pool, fresh)) return *fresh;
    delete fresh;
    return *pool;
  }

  /// True on a worker thread of any pool: parallel_for runs nested calls there inline.
  static bool on_worker() noexcept { return worker_flag(); }

  /// Worker threads the pool holds now.
  int size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(workers_.size());
  }

  /// Calls slice(s) once for each s in [0, slices), slice 0 on the calling thread, and returns
  /// when all returned. `slice` must not throw.
  template <class Slice>
  void run(int slices, Slice& slice) {
    Job job{&call<Slice>, &slice, slices};
    std::unique_lock<std::mutex> lock(mutex_);
    const int helpers = std::min(grow(slices - 1), slices - 1);
    if (helpers > 0) queue_.push_back(&job);
    lock.unlock();
    for (int i = 0; i < helpers; ++i) wake_.notify_one();
    slice(0);
    lock.lock();
    ++job.finished;
    while (job.next < job.slices) {
      const int s = claim(job);
      lock.unlock();
      slice(s);
      lock.lock();
      ++job.finished;
    }
    done_.wait(lock, [&] { return job.finished == job.slices; });
  }

 private:
  struct Job {
    void (*invoke)(void*, int);
    void* slice;
    int slices;
    int next = 1;  // slice 0 is the caller's
    int finished = 0;
  };

  template <class Slice>
  static void call(void* slice, int s) {
    (*static_cast<Slice*>(slice))(s);
  }

  static std::atomic<ThreadPool*>& global_slot() {
    static std::atomic<ThreadPool*> slot{nullptr};
    return slot;
  }

  static bool& worker_flag() noexcept {
    thread_local bool flag = false;
    return flag;
  }

  // Takes the next slice of `job`, dropping the job from the queue when it was the last.
  // Needs mutex_.
  int claim(Job& job) {
    const int s = job.next++;
    if (job.next == job.slices) {
      const auto it = std::find(queue_.begin(), queue_.end(), &job);
      if (it != queue_.end()) queue_.erase(it);
    }
    return s;
  }

  // Creates workers until there are `wanted` (at most kMaxThreads - 1) or the system refuses one
  // (std::system_error or std::bad_alloc from std::thread: thread limit, address space); returns
  // how many there are. Needs mutex_.
  int grow(int wanted) {
    wanted = std::min(wanted, kMaxThreads - 1);
    const int limit = spawn_limit_for_testing.load(std::memory_order_relaxed);
    if (limit >= 0) wanted = std::min(wanted, limit);
    try {
      while (static_cast<int>(workers_.size()) < wanted) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      // The callers run the slices no worker takes.
    } catch (const std::bad_alloc&) {
    }
    return static_cast<int>(workers_.size());
  }

  void work() {
    worker_flag() = true;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      Job& job = *queue_.front();
      const int s = claim(job);
      lock.unlock();
      job.invoke(job.slice, s);
      lock.lock();
      // The caller may destroy `job` as soon as the lock is released: not touched after this.
      if (++job.finished == job.slices) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // work queued, or stopping
  std::condition_variable done_;  // a job's last slice finished
  std::deque<Job*> queue_;        // jobs with unclaimed slices, oldest first
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

/// Calls body(begin, end, slice) on `num_threads` contiguous slices of [0, n) (0 = the global
/// default, get_num_threads()), each slice a multiple of `grain` except the last, on the
/// threads of `pool`. Runs inline (one slice, on the calling thread) when one thread suffices or
/// when called from a pool worker (a nested call: the outer call already uses the workers). The
/// first exception thrown by a slice is rethrown in the caller after every slice finished.
///
/// The caller's thread runs slice 0 itself. When the system cannot create workers, or all are
/// busy, the caller runs the slices left over, one after another: the result is the same, only
/// slower; nothing terminates the process. Slices never run concurrently with themselves, so
/// `slice` may index per-slice scratch.
template <class Body>
void parallel_for(ThreadPool& pool, std::ptrdiff_t n, int num_threads, std::ptrdiff_t grain,
                  Body&& body) {
  if (n <= 0) return;
  grain = std::max<std::ptrdiff_t>(grain, 1);
  const std::ptrdiff_t chunks = (n + grain - 1) / grain;
  if (chunks <= 1 || ThreadPool::on_worker()) {
    body(std::ptrdiff_t{0}, n, 0);
    return;
  }
  const int threads =
      static_cast<int>(std::min<std::ptrdiff_t>(resolve_threads(num_threads), chunks));
  if (threads <= 1) {
    body(std::ptrdiff_t{0}, n, 0);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  auto slice = [&](int t) noexcept {
    const std::ptrdiff_t begin = std::min(n, chunks * t / threads * grain);
    const std::ptrdiff_t end = std::min(n, chunks * (t + 1) / threads * grain);
    try {
      body(begin, end, t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  pool.run(threads, slice);
  if (error) std::rethrow_exception(error);
}

/// parallel_for on the process-wide pool (ThreadPool::global()).
template <class Body>
void parallel_for(std::ptrdiff_t n, int num_threads, std::ptrdiff_t grain, Body&& body) {
  parallel_for(ThreadPool::global(), n, num_threads, grain, std::forward<Body>(body));
}

}  // namespace pstable::detail
