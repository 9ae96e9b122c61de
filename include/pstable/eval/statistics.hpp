#pragma once

#include <cmath>

#include "pstable/core/neighbors.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/eval/labels.hpp"

namespace pstable {

/// Mean distance (Euclidean) or similarity (Cosine, InnerProduct) of the first k results over
/// all queries: the report's "mean distance/similarity". Padded results (id -1) are left out; 0
/// when there is no result at all.
template <class T>
double mean_returned_value(const Neighbors<T>& result, Eigen::Index k) {
  detail::check_eval_k(k, result.k());
  double sum = 0;
  Eigen::Index count = 0;
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    for (Eigen::Index j = 0; j < k; ++j) {
      if (result.ids()(q, j) < 0) continue;
      sum += static_cast<double>(result.distances()(q, j));
      ++count;
    }
  }
  return count == 0 ? 0.0 : sum / static_cast<double>(count);
}

/// Mean items visited (distance computations) per query as a fraction of the `database_size`
/// searchable items (the report's "items visited, %" divided by 100).
template <class T>
double visited_fraction(const Neighbors<T>& result, Eigen::Index database_size) {
  if (database_size <= 0) {
    throw InvalidArgument(detail::concat("database_size must be positive, got ", database_size));
  }
  return result.mean_visited() / static_cast<double>(database_size);
}

/// Queries answered per second: `num_queries / seconds`. Throws unless seconds > 0.
inline double queries_per_second(Eigen::Index num_queries, double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    throw InvalidArgument(detail::concat("seconds must be positive and finite, got ", seconds,
                                         "; time the search with a steady clock"));
  }
  return static_cast<double>(num_queries) / seconds;
}

}  // namespace pstable
