#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include "pstable/core/error.hpp"
#include "pstable/detail/cpu_count.hpp"

namespace pstable {

/// Most threads one batch call uses: larger requests (num_threads, set_num_threads,
/// PSTABLE_NUM_THREADS) count as this many. More threads than cores only add switching.
inline constexpr int kMaxThreads = 256;

namespace detail {

/// The process-wide default behind num_threads = 0: the requested count (0 = all allowed CPUs)
/// and the allowed CPUs, both read once, at first use.
struct ThreadDefault {
  std::atomic<int> requested;
  int allowed;
  ThreadDefault()
      : requested(std::min(parse_num_threads(std::getenv("PSTABLE_NUM_THREADS")).value_or(0),
                           kMaxThreads)),
        allowed(std::min(allowed_cpus(), kMaxThreads)) {}
};

inline ThreadDefault& thread_default() {
  static ThreadDefault value;
  return value;
}

}  // namespace detail

/// Sets the number of threads batch calls (search of many queries, ground_truth) use when they
/// are given num_threads = 0, their default. 0 restores "all CPUs this process may run on";
/// values above kMaxThreads count as kMaxThreads. Throws InvalidArgument if n < 0.
inline void set_num_threads(int n) {
  if (n < 0) {
    throw InvalidArgument("set_num_threads: n must be >= 0 (0 = all allowed CPUs), got " +
                          std::to_string(n));
  }
  detail::thread_default().requested.store(std::min(n, kMaxThreads), std::memory_order_relaxed);
}

/// The number of threads a batch call with num_threads = 0 uses (always >= 1): the value of
/// set_num_threads, else of the environment variable PSTABLE_NUM_THREADS, else the CPUs this
/// process may run on (its affinity mask, e.g. `taskset`, lowered to its cgroup CPU quota
/// rounded up; std::thread::hardware_concurrency() outside Linux). The environment variable
/// and the CPUs are read once, at the first call of a thread function; an invalid
/// PSTABLE_NUM_THREADS (not a decimal integer >= 0) is ignored, 0 means all allowed CPUs. Any
/// set_num_threads call replaces the variable's value: set_num_threads(0) means all allowed
/// CPUs, not PSTABLE_NUM_THREADS again.
inline int get_num_threads() {
  const auto& value = detail::thread_default();
  const int requested = value.requested.load(std::memory_order_relaxed);
  return requested > 0 ? requested : value.allowed;
}

}  // namespace pstable
