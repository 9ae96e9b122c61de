#pragma once

#include <vector>

#include "pstable/core/neighbors.hpp"
#include "pstable/eval/average_precision.hpp"
#include "pstable/eval/labels.hpp"
#include "pstable/eval/per_class.hpp"
#include "pstable/eval/precision.hpp"
#include "pstable/eval/recall.hpp"
#include "pstable/eval/statistics.hpp"

namespace pstable {

/// Every measure of one search run, as the report tabulated them (see docs/evaluation.md).
struct Evaluation {
  Eigen::Index k = 0;
  double precision = 0;          ///< mean precision@k by label: the report's "mAP"
  double recall = 0;             ///< mean recall@k against the exact result
  double average_precision = 0;  ///< mean AP@k (standard mAP@k)
  double mean_value = 0;         ///< mean returned distance or similarity
  double mean_visited = 0;       ///< mean distance computations per query
  double visited_fraction = 0;   ///< mean_visited / database size
  double queries_per_second = 0;
  std::vector<ClassScore> precision_per_class;
  std::vector<ClassScore> recall_per_class;
  std::vector<ClassScore> average_precision_per_class;
};

/// Evaluates `result` (an approximate or exact search of the queries labelled `query_labels`
/// over the items labelled `base_labels`) against `truth` (the exact search of the same queries),
/// at cut-off k, for a search that took `seconds`. Throws on mismatched sizes or bad labels, and
/// InvalidArgument when `result` or `truth` records a metric other than `Metric`.
template <class Metric, class T>
Evaluation evaluate(const Neighbors<T>& result, const Neighbors<T>& truth,
                    const std::vector<Label>& query_labels, const std::vector<Label>& base_labels,
                    Eigen::Index k, double seconds, double epsilon = kRecallTolerance) {
  Evaluation e;
  e.k = k;
  const auto precision = precision_per_query(result, query_labels, base_labels, k);
  const auto recall = recall_per_query<Metric>(result, truth, k, epsilon);
  const auto ap = average_precision_per_query(result, query_labels, base_labels, k);
  e.queries_per_second = queries_per_second(result.num_queries(), seconds);
  e.precision = detail::mean_of(precision);
  e.recall = detail::mean_of(recall);
  e.average_precision = detail::mean_of(ap);
  e.mean_value = mean_returned_value(result, k);
  e.mean_visited = result.mean_visited();
  e.visited_fraction = visited_fraction(result, static_cast<Eigen::Index>(base_labels.size()));
  e.precision_per_class = per_class_mean(precision, query_labels);
  e.recall_per_class = per_class_mean(recall, query_labels);
  e.average_precision_per_class = per_class_mean(ap, query_labels);
  return e;
}

/// As above, under the metric `result` records (or, for a result built by hand, `truth`).
/// Throws InvalidArgument when neither records one or when they record different ones.
template <class T>
Evaluation evaluate(const Neighbors<T>& result, const Neighbors<T>& truth,
                    const std::vector<Label>& query_labels, const std::vector<Label>& base_labels,
                    Eigen::Index k, double seconds, double epsilon = kRecallTolerance) {
  return detail::with_result_metric(result, truth, [&](auto metric) {
    return evaluate<decltype(metric)>(result, truth, query_labels, base_labels, k, seconds,
                                      epsilon);
  });
}

}  // namespace pstable
