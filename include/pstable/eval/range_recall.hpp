#pragma once

#include <algorithm>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/range_neighbors.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable {

/// Recall of a range search against the exact one over the same queries and radius (ExactIndex::
/// search_radius or brute force): the share of all true (query, point) pairs in range that
/// `result` returned, counted over every query together, so a query with more points in range
/// weighs more. 1 when no query has any point in range. Only ids are compared: an approximate
/// range search (E2LSHIndex::search_radius) returns exact distances and nothing out of range, so
/// its only error is the pairs it missed. Throws InvalidArgument when the query counts differ.
template <class T>
double range_recall(const RangeNeighbors<T>& result, const RangeNeighbors<T>& truth) {
  if (result.num_queries() != truth.num_queries()) {
    throw InvalidArgument(detail::concat("range_recall: the result holds ", result.num_queries(),
                                         " queries, the truth ", truth.num_queries()));
  }
  Eigen::Index found = 0;
  std::vector<Id> a, b;
  for (Eigen::Index q = 0; q < truth.num_queries(); ++q) {
    const auto slice = [](const RangeNeighbors<T>& r, Eigen::Index i, std::vector<Id>& out) {
      const auto begin = r.offsets()(i), end = r.offsets()(i + 1);
      out.assign(r.ids().data() + begin, r.ids().data() + end);
      std::sort(out.begin(), out.end());
    };
    slice(result, q, a);
    slice(truth, q, b);
    std::vector<Id>::const_iterator i = a.begin(), j = b.begin();
    while (i != a.end() && j != b.end()) {  // ids are distinct within a query
      if (*i < *j) {
        ++i;
      } else if (*j < *i) {
        ++j;
      } else {
        ++found, ++i, ++j;
      }
    }
  }
  return truth.total() == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(truth.total());
}

}  // namespace pstable
