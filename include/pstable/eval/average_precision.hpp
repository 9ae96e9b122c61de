#pragma once

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "pstable/core/neighbors.hpp"
#include "pstable/eval/labels.hpp"

namespace pstable {

/// Average precision at k of each query, relevance = same label:
///
///   AP@k(q) = (1 / min(k, R)) * sum_{i=1..k} P(i) rel(i)
///
/// where rel(i) is 1 when the i-th result is relevant, P(i) the precision of the first i results
/// and R the number of items in `base_labels` that share the query's label (all relevant items
/// in the database, not only those retrieved). A ranking that puts min(k, R) relevant items first
/// scores 1; a query with no relevant item in the database scores 0. Padded results (id -1) and
/// unlabelled items are never relevant. Unlike precision@k (the report's "mAP"), AP@k rewards
/// relevant items ranked early. Arguments as for precision_per_query.
template <class T>
std::vector<double> average_precision_per_query(const Neighbors<T>& result,
                                                const std::vector<Label>& query_labels,
                                                const std::vector<Label>& base_labels,
                                                Eigen::Index k) {
  detail::check_eval_k(k, result.k());
  detail::check_labels(result, query_labels, base_labels);
  std::unordered_map<Label, Eigen::Index> class_sizes;
  for (Label label : base_labels) {
    if (label != kUnlabelled) ++class_sizes[label];
  }
  std::vector<double> ap(query_labels.size());
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    const Label wanted = query_labels[static_cast<std::size_t>(q)];
    const auto found = class_sizes.find(wanted);
    const Eigen::Index relevant = found == class_sizes.end() ? 0 : found->second;
    if (relevant == 0) continue;
    double sum = 0;
    Eigen::Index hits = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      const Id id = result.ids()(q, j);
      if (id >= 0 && base_labels[static_cast<std::size_t>(id)] == wanted) {
        ++hits;
        sum += static_cast<double>(hits) / static_cast<double>(j + 1);
      }
    }
    ap[static_cast<std::size_t>(q)] = sum / static_cast<double>(std::min(k, relevant));
  }
  return ap;
}

/// Mean AP@k over the queries (the standard mAP@k); 0 when there are no queries.
template <class T>
double mean_average_precision(const Neighbors<T>& result, const std::vector<Label>& query_labels,
                              const std::vector<Label>& base_labels, Eigen::Index k) {
  const auto ap = average_precision_per_query(result, query_labels, base_labels, k);
  return detail::mean_of(ap);
}

}  // namespace pstable
