#pragma once

#include <cmath>
#include <vector>

#include "pstable/core/neighbors.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/eval/labels.hpp"
#include "pstable/detail/result_metric.hpp"
#include "pstable/metric/traits.hpp"

namespace pstable {

/// Default tolerance of recall@k: a relative 1e-3 of the true k-th distance.
inline constexpr double kRecallTolerance = 1e-3;

/// Recall@k of each query: the fraction of the first k results of `result` that are as close as
/// the true k-th neighbour in `truth` (an exact search, e.g. ground_truth), up to a tolerance.
/// With d_k the true k-th distance (Euclidean), a result with distance d counts when
/// d <= d_k * (1 + epsilon); with s_k the true k-th similarity (Cosine, InnerProduct), when
/// s >= s_k - epsilon * |s_k|. This is ann-benchmarks' distance-threshold recall: ties at the
/// k-th distance and rounding do not count as misses. Padded results (id -1) never count. The
/// reported distances are trusted, so `result` must come from the same metric as `truth`: a metric
/// either records (Neighbors::metric) that is not `Metric` throws InvalidArgument.
template <class Metric, class T>
std::vector<double> recall_per_query(const Neighbors<T>& result, const Neighbors<T>& truth,
                                     Eigen::Index k, double epsilon = kRecallTolerance) {
  static_assert(is_metric_v<Metric>, "Metric must be one of pstable::Metrics");
  detail::check_result_metric<Metric>(result, truth);
  detail::check_eval_k(k, result.k());
  detail::check_eval_k(k, truth.k());
  if (result.num_queries() != truth.num_queries()) {
    throw DimensionMismatch(detail::concat("result has ", result.num_queries(), " queries, truth ",
                                           truth.num_queries(),
                                           "; pass both for the same queries"));
  }
  if (!(epsilon >= 0) || !std::isfinite(epsilon)) {
    throw InvalidArgument(detail::concat("epsilon must be finite and >= 0, got ", epsilon));
  }
  std::vector<double> recall(static_cast<std::size_t>(result.num_queries()));
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    const double kth = static_cast<double>(truth.distances()(q, k - 1));
    const double bound =
        Metric::is_similarity ? kth - epsilon * std::abs(kth) : kth * (1.0 + epsilon);
    Eigen::Index hits = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (result.ids()(q, j) < 0) continue;
      const double d = static_cast<double>(result.distances()(q, j));
      if (Metric::is_similarity ? d >= bound : d <= bound) ++hits;
    }
    recall[static_cast<std::size_t>(q)] = static_cast<double>(hits) / static_cast<double>(k);
  }
  return recall;
}

/// Mean recall@k over the queries (see recall_per_query); 0 when there are no queries.
template <class Metric, class T>
double recall_at_k(const Neighbors<T>& result, const Neighbors<T>& truth, Eigen::Index k,
                   double epsilon = kRecallTolerance) {
  const auto recall = recall_per_query<Metric>(result, truth, k, epsilon);
  return detail::mean_of(recall);
}

/// Recall@k of each query under the metric the result records (or, for a result built by hand,
/// the truth): `recall_per_query(index.search(q, k), ground_truth<T, Metric>(x, q, k), k)`.
/// Throws InvalidArgument when neither records a metric or when they record different ones.
template <class T>
std::vector<double> recall_per_query(const Neighbors<T>& result, const Neighbors<T>& truth,
                                     Eigen::Index k, double epsilon = kRecallTolerance) {
  return detail::with_result_metric(result, truth, [&](auto metric) {
    return recall_per_query<decltype(metric)>(result, truth, k, epsilon);
  });
}

/// Mean recall@k under the metric the result records (see the overload above).
template <class T>
double recall_at_k(const Neighbors<T>& result, const Neighbors<T>& truth, Eigen::Index k,
                   double epsilon = kRecallTolerance) {
  return detail::mean_of(recall_per_query(result, truth, k, epsilon));
}

}  // namespace pstable
