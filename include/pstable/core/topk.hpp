#pragma once

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "pstable/config.hpp"
#include "pstable/core/types.hpp"

namespace pstable::detail {

/// A scored candidate: smaller key is better; equal keys order by id.
template <class T>
struct Scored {
  T key;
  Id id;
};

template <class T>
inline bool better(const Scored<T>& a, const Scored<T>& b) noexcept {
  return a.key < b.key || (a.key == b.key && a.id < b.id);
}

/// Bounded top-k selection: keeps the k best (smallest key, then smallest id) of the candidates
/// pushed. A max-heap on "worse", so the root is the current k-th best and most pushes are one
/// comparison against `threshold()`.
template <class T>
class TopK {
 public:
  explicit TopK(std::size_t k = 0) { reset(k); }

  void reset(std::size_t k) {
    k_ = k;
    heap_.clear();
    heap_.reserve(k);
  }

  std::size_t k() const noexcept { return k_; }
  std::size_t size() const noexcept { return heap_.size(); }
  bool full() const noexcept { return heap_.size() == k_; }

  /// Key a candidate must beat (or tie with a smaller id) to enter; +inf until full.
  T threshold() const noexcept {
    return full() ? heap_.front().key : std::numeric_limits<T>::infinity();
  }

  void push(T key, Id id) {
    const Scored<T> c{key, id};
    if (!full()) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), better<T>);
    } else if (k_ > 0 && better(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better<T>);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), better<T>);
    }
  }

  /// Moves the kept candidates out, best first, and leaves the selector empty.
  std::vector<Scored<T>> take_sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), better<T>);
    std::vector<Scored<T>> out;
    out.swap(heap_);
    heap_.reserve(k_);
    return out;
  }

 private:
  std::size_t k_ = 0;
  std::vector<Scored<T>> heap_;
};

}  // namespace pstable::detail
