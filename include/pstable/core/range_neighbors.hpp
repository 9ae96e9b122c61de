#pragma once

#include <cstdint>

#include "pstable/core/types.hpp"

namespace pstable {

/// The result of a range search (`search_radius`), in FAISS's range_search layout: query q's
/// results are `ids()[offsets()(q)] .. ids()[offsets()(q + 1) - 1]` with their `distances()`
/// (Euclidean, Manhattan: the distance; Cosine: the cosine similarity; InnerProduct: the inner
/// product), best first, ties broken by the smaller id. `offsets()` has num_queries() + 1
/// entries, starting at 0; a query with nothing in range has an empty slice.
///
/// `visited(q)` is the number of distinct points whose distance to query q was computed;
/// `probed(q)` the number of hash buckets looked up (0 for exact search).
template <class T>
class RangeNeighbors {
 public:
  using IdVector = Eigen::Matrix<Id, Eigen::Dynamic, 1>;
  using ValueVector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  RangeNeighbors() : offsets_(CountVector::Zero(1)) {}
  /// Room for `num_queries` queries and `total` results; offsets and counts read 0.
  RangeNeighbors(Eigen::Index num_queries, Eigen::Index total)
      : offsets_(CountVector::Zero(num_queries + 1)),
        ids_(total),
        distances_(total),
        visited_(CountVector::Zero(num_queries)),
        probed_(CountVector::Zero(num_queries)) {}

  Eigen::Index num_queries() const noexcept { return offsets_.size() - 1; }
  /// Results of all queries together.
  Eigen::Index total() const noexcept { return ids_.size(); }
  /// Results of query q.
  Eigen::Index count(Eigen::Index q) const noexcept {
    return static_cast<Eigen::Index>(offsets_(q + 1) - offsets_(q));
  }

  const CountVector& offsets() const noexcept { return offsets_; }
  const IdVector& ids() const noexcept { return ids_; }
  const ValueVector& distances() const noexcept { return distances_; }
  const CountVector& visited() const noexcept { return visited_; }
  const CountVector& probed() const noexcept { return probed_; }

  CountVector& offsets() noexcept { return offsets_; }
  IdVector& ids() noexcept { return ids_; }
  ValueVector& distances() noexcept { return distances_; }
  CountVector& visited() noexcept { return visited_; }
  CountVector& probed() noexcept { return probed_; }

  /// Mean number of distance computations per query.
  double mean_visited() const noexcept {
    return num_queries() == 0
               ? 0.0
               : static_cast<double>(visited_.sum()) / static_cast<double>(num_queries());
  }

 private:
  CountVector offsets_;
  IdVector ids_;
  ValueVector distances_;
  CountVector visited_;
  CountVector probed_;
};

}  // namespace pstable
