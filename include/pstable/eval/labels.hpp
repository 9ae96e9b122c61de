#pragma once

#include <cstdint>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable {

/// A class label. Non-negative labels are classes; `kUnlabelled` marks distractor items, which
/// are never relevant to any query.
using Label = std::int32_t;

/// The label of a distractor (an item that belongs to no query class).
inline constexpr Label kUnlabelled = -1;

namespace detail {

/// Checks that labels fit a result: one query label per result row, each >= 0; one base label
/// per indexed item, each >= -1; every returned id either -1 (padding) or a valid base index.
template <class T>
void check_labels(const Neighbors<T>& result, const std::vector<Label>& query_labels,
                  const std::vector<Label>& base_labels) {
  if (static_cast<Eigen::Index>(query_labels.size()) != result.num_queries()) {
    throw DimensionMismatch(concat("query_labels has ", query_labels.size(), " entries but the ",
                                   "result has ", result.num_queries(),
                                   " queries; pass one label per query row"));
  }
  for (std::size_t q = 0; q < query_labels.size(); ++q) {
    if (query_labels[q] < 0) {
      throw InvalidArgument(concat("query_labels[", q, "] is ", query_labels[q],
                                   "; queries need a class label >= 0"));
    }
  }
  for (std::size_t i = 0; i < base_labels.size(); ++i) {
    if (base_labels[i] < kUnlabelled) {
      throw InvalidArgument(concat("base_labels[", i, "] is ", base_labels[i],
                                   "; use a class >= 0, or -1 for an unlabelled distractor"));
    }
  }
  const auto size = static_cast<Id>(base_labels.size());
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    for (Eigen::Index j = 0; j < result.k(); ++j) {
      const Id id = result.ids()(q, j);
      if (id < -1 || id >= size) {
        throw InvalidArgument(concat("result id ", id, " (query ", q, ", rank ", j,
                                     ") is outside the ", size,
                                     " base labels; pass one label per indexed item"));
      }
    }
  }
}

/// Mean of per-query values; 0 when there are no queries.
inline double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

inline void check_eval_k(Eigen::Index k, Eigen::Index available) {
  if (k <= 0) throw InvalidArgument(concat("k must be at least 1, got ", k));
  if (k > available) {
    throw InvalidArgument(concat("k = ", k, " exceeds the ", available,
                                 " results per query; search with at least k neighbours"));
  }
}

}  // namespace detail
}  // namespace pstable
