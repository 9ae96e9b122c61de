#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

namespace pstable::detail {

/// Most workers one call runs: a larger num_threads is treated as this many. Each worker has its
/// own stack (8 MiB of address space by default), and more workers than hardware threads only
/// add switching, so no real machine needs more.
inline constexpr int kMaxThreads = 256;

/// Test seam (not public API): when >= 0, parallel_for behaves as if the operating system refused
/// every thread after this many workers of one call were created. Tests set it to check the
/// fallback; the library never does.
inline std::atomic<int> spawn_limit_for_testing{-1};

/// num_threads as parallel_for runs it: 0 = one per hardware thread, at most kMaxThreads.
inline int resolve_threads(int num_threads) {
  if (num_threads > 0) return std::min(num_threads, kMaxThreads);
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, kMaxThreads));
}

/// Calls body(begin, end, slice) on `num_threads` contiguous slices of [0, n), each slice
/// a multiple of `grain` except the last. Runs inline when one thread suffices. The first
/// exception thrown by a slice is rethrown in the caller after all workers joined.
///
/// The caller's thread runs slice 0 itself. When the system cannot create a worker (thread
/// limit, address space: std::system_error or std::bad_alloc from std::thread), no more are
/// attempted and the caller runs the slices left over, one after another: the result is the
/// same, only slower; nothing terminates the process. Slices never run concurrently with
/// themselves, so `slice` may index per-slice scratch.
template <class Body>
void parallel_for(std::ptrdiff_t n, int num_threads, std::ptrdiff_t grain, Body&& body) {
  if (n <= 0) return;
  grain = std::max<std::ptrdiff_t>(grain, 1);
  const std::ptrdiff_t chunks = (n + grain - 1) / grain;
  const int threads =
      static_cast<int>(std::min<std::ptrdiff_t>(resolve_threads(num_threads), chunks));
  if (threads <= 1) {
    body(std::ptrdiff_t{0}, n, 0);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&](int t) noexcept {
    const std::ptrdiff_t begin = std::min(n, chunks * t / threads * grain);
    const std::ptrdiff_t end = std::min(n, chunks * (t + 1) / threads * grain);
    try {
      body(begin, end, t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  int spawned = 1;  // slices [1, spawned) have a worker
  try {
    workers.reserve(static_cast<std::size_t>(threads - 1));
    const int limit = spawn_limit_for_testing.load(std::memory_order_relaxed);
    for (; spawned < threads; ++spawned) {
      if (limit >= 0 && spawned - 1 >= limit) break;
      workers.emplace_back(run, spawned);
    }
  } catch (const std::system_error&) {
    // Could not create more threads: the caller runs the remaining slices below.
  } catch (const std::bad_alloc&) {
  }
  run(0);
  for (int t = spawned; t < threads; ++t) run(t);
  for (auto& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace pstable::detail
