#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/range_neighbors.hpp"
#include "pstable/core/topk.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// Throws InvalidArgument for a NaN radius, or a negative one under a distance metric. (For a
/// similarity any other value is a threshold; infinities mean "everything" or "nothing".)
template <class Metric, class T>
void check_radius(T radius) {
  if (std::isnan(radius)) {
    throw InvalidArgument(Metric::is_similarity
                              ? "radius (the similarity threshold) is NaN; pass a number"
                              : "radius is NaN; pass a distance >= 0");
  }
  if (!Metric::is_similarity && radius < T(0)) {
    throw InvalidArgument(
        concat("radius must be >= 0 for the ", Metric::name, " distance, got ", radius));
  }
}

/// Collects the results of a range search, one list per query, and lays them out as
/// RangeNeighbors. A point is in range when the value a user sees (Metric::key_to_value of its
/// key) is within the radius: distance <= radius, or similarity >= radius. Each query's list
/// must be written by one thread at a time; different queries may be written concurrently.
template <class T, class Metric>
class RangeCollector {
 public:
  RangeCollector(Eigen::Index num_queries, T radius)
      : lists_(static_cast<std::size_t>(num_queries)),
        visited_(CountVector::Zero(num_queries)),
        probed_(CountVector::Zero(num_queries)),
        radius_(radius) {}

  /// Offers point `id` with ranking key `key` (smaller is better) to query q.
  void offer(Eigen::Index q, T key, Id id) {
    const T value = Metric::key_to_value(key);
    if (Metric::is_similarity ? value >= radius_ : value <= radius_) {
      // Ordered by the reported value (ascending distance, descending similarity), then by id.
      lists_[static_cast<std::size_t>(q)].push_back({Metric::is_similarity ? -value : value, id});
    }
  }

  CountVector& visited() noexcept { return visited_; }
  CountVector& probed() noexcept { return probed_; }

  /// The results, each query's best first; sorts on `num_threads` workers.
  RangeNeighbors<T> finish(int num_threads) {
    const auto nq = static_cast<Eigen::Index>(lists_.size());
    parallel_for(nq, num_threads, 64, [&](auto begin, auto end, int) {
      for (auto q = begin; q < end; ++q) {
        auto& list = lists_[static_cast<std::size_t>(q)];
        std::sort(list.begin(), list.end(), better<T>);
      }
    });
    Eigen::Index total = 0;
    for (const auto& list : lists_) total += static_cast<Eigen::Index>(list.size());
    RangeNeighbors<T> out(nq, total);
    Eigen::Index at = 0;
    for (Eigen::Index q = 0; q < nq; ++q) {
      auto& list = lists_[static_cast<std::size_t>(q)];
      for (const auto& c : list) {
        out.ids()(at) = c.id;
        out.distances()(at) = Metric::is_similarity ? -c.key : c.key;
        ++at;
      }
      out.offsets()(q + 1) = at;
      std::vector<Scored<T>>().swap(list);
    }
    out.visited() = std::move(visited_);
    out.probed() = std::move(probed_);
    return out;
  }

 private:
  std::vector<std::vector<Scored<T>>> lists_;
  CountVector visited_;
  CountVector probed_;
  T radius_;
};

}  // namespace pstable::detail
