#pragma once

#include <vector>

#include "pstable/core/neighbors.hpp"
#include "pstable/eval/labels.hpp"

namespace pstable {

/// Precision@k of each query by label: the number of the first k results whose base label equals
/// the query's label, divided by k. Padded results (id -1) and unlabelled items (kUnlabelled) are
/// never relevant; the denominator is always k. Averaged over the queries this is what the report
/// called "mAP" (see docs/evaluation.md). `query_labels` has one label (>= 0) per result row,
/// `base_labels` one per indexed item (>= 0, or kUnlabelled for a distractor).
template <class T>
std::vector<double> precision_per_query(const Neighbors<T>& result,
                                        const std::vector<Label>& query_labels,
                                        const std::vector<Label>& base_labels, Eigen::Index k) {
  detail::check_eval_k(k, result.k());
  detail::check_labels(result, query_labels, base_labels);
  std::vector<double> precision(query_labels.size());
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    const Label wanted = query_labels[static_cast<std::size_t>(q)];
    Eigen::Index hits = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      const Id id = result.ids()(q, j);
      if (id >= 0 && base_labels[static_cast<std::size_t>(id)] == wanted) ++hits;
    }
    precision[static_cast<std::size_t>(q)] = static_cast<double>(hits) / static_cast<double>(k);
  }
  return precision;
}

/// Mean precision@k over the queries: the report's "mAP". 0 when there are no queries.
template <class T>
double precision_at_k(const Neighbors<T>& result, const std::vector<Label>& query_labels,
                      const std::vector<Label>& base_labels, Eigen::Index k) {
  const auto precision = precision_per_query(result, query_labels, base_labels, k);
  return detail::mean_of(precision);
}

}  // namespace pstable
