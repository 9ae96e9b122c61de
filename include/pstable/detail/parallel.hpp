#pragma once

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pstable::detail {

inline int resolve_threads(int num_threads) {
  if (num_threads > 0) return num_threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

/// Calls body(begin, end, thread_index) on `num_threads` contiguous slices of [0, n), each slice
/// a multiple of `grain` except the last. Runs inline when one thread suffices. The first
/// exception thrown by a worker is rethrown in the caller after all workers joined.
template <class Body>
void parallel_for(std::ptrdiff_t n, int num_threads, std::ptrdiff_t grain, Body&& body) {
  if (n <= 0) return;
  grain = std::max<std::ptrdiff_t>(grain, 1);
  const std::ptrdiff_t chunks = (n + grain - 1) / grain;
  const int threads = static_cast<int>(std::min<std::ptrdiff_t>(resolve_threads(num_threads), chunks));
  if (threads <= 1) {
    body(std::ptrdiff_t{0}, n, 0);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    const std::ptrdiff_t begin = std::min(n, chunks * t / threads * grain);
    const std::ptrdiff_t end = std::min(n, chunks * (t + 1) / threads * grain);
    workers.emplace_back([&, begin, end, t] {
      try {
        body(begin, end, t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace pstable::detail
