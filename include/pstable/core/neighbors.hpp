#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "pstable/core/types.hpp"

namespace pstable {

/// The result of a search: for each query (one row each), the ids of the k best points and their
/// distances (Euclidean: the distance; Cosine: the cosine similarity; InnerProduct: the inner
/// product), best first, ties broken by the smaller id. Where fewer than k points were found (k
/// above the index size, or an LSH index whose buckets held too few candidates), the row is padded
/// with id -1 and distance +infinity (or -infinity for similarities).
///
/// `metric()` names the metric that produced the distances ("euclidean", "cosine", ...; the
/// metric's `name`), so that the evaluator can read them without being told again and refuse to
/// compare results of different metrics. It is empty for a result built by hand.
///
/// `visited(q)` is the number of distinct points whose distance to query q was computed (the
/// report's "items visited"); `probed(q)` the number of hash buckets looked up (0 for exact search).
template <class T>
class Neighbors {
 public:
  Neighbors() = default;
  Neighbors(Eigen::Index num_queries, Eigen::Index k, std::string metric = {})
      : ids_(IdMatrix::Constant(num_queries, k, -1)),
        distances_(RowMatrix<T>::Zero(num_queries, k)),
        visited_(CountVector::Zero(num_queries)),
        probed_(CountVector::Zero(num_queries)),
        metric_(std::move(metric)) {}

  Eigen::Index num_queries() const noexcept { return ids_.rows(); }
  Eigen::Index k() const noexcept { return ids_.cols(); }

  const IdMatrix& ids() const noexcept { return ids_; }
  const RowMatrix<T>& distances() const noexcept { return distances_; }
  const CountVector& visited() const noexcept { return visited_; }
  const CountVector& probed() const noexcept { return probed_; }
  /// The name of the metric of the distances; empty when unknown.
  const std::string& metric() const noexcept { return metric_; }

  IdMatrix& ids() noexcept { return ids_; }
  RowMatrix<T>& distances() noexcept { return distances_; }
  CountVector& visited() noexcept { return visited_; }
  CountVector& probed() noexcept { return probed_; }
  void set_metric(std::string metric) { metric_ = std::move(metric); }

  /// Mean number of distance computations per query.
  double mean_visited() const noexcept {
    return num_queries() == 0
               ? 0.0
               : static_cast<double>(visited_.sum()) / static_cast<double>(num_queries());
  }

 private:
  IdMatrix ids_;
  RowMatrix<T> distances_;
  CountVector visited_;
  CountVector probed_;
  std::string metric_;
};

}  // namespace pstable
