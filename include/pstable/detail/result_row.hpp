#pragma once

#include <cstddef>
#include <limits>

#include "pstable/core/neighbors.hpp"
#include "pstable/core/topk.hpp"

namespace pstable::detail {

/// The value a result slot with no point holds: the metric's worst, +infinity for distances and
/// -infinity for similarities (the value of an infinite key).
template <class Metric, class T>
T padding_value() noexcept {
  return Metric::key_to_value(std::numeric_limits<T>::infinity());
}

/// Moves the candidates `top` kept into row q of `out`, best first, as the metric's values; the
/// slots past them (fewer candidates than k: k above the index size, or sparse LSH buckets) get
/// id -1 and padding_value. Both indexes write their results through it.
template <class Metric, class T>
void write_row(TopK<T>& top, Neighbors<T>& out, Eigen::Index q) {
  const auto best = top.take_sorted();
  const T pad = padding_value<Metric, T>();
  for (Eigen::Index j = 0; j < out.k(); ++j) {
    const auto s = static_cast<std::size_t>(j);
    out.ids()(q, j) = s < best.size() ? best[s].id : Id{-1};
    out.distances()(q, j) = s < best.size() ? Metric::key_to_value(best[s].key) : pad;
  }
}

}  // namespace pstable::detail
