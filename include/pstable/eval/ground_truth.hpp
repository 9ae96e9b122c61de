#pragma once

#include "pstable/core/neighbors.hpp"
#include "pstable/core/types.hpp"
#include "pstable/index/exact.hpp"

namespace pstable {

/// The exact k nearest neighbours of every query row among the rows of `data` (ids are row
/// numbers of `data`), computed by ExactIndex with `num_threads` threads (0 = the default,
/// pstable::get_num_threads()). This is the reference that recall@k compares an approximate
/// result with. `data` is borrowed, not copied, when its rows are contiguous. Throws what
/// ExactIndex::search throws.
template <class T, class Metric>
Neighbors<T> ground_truth(const MatrixRef<T>& data, const MatrixRef<T>& queries, Eigen::Index k,
                          int num_threads = 0) {
  if (data.rows() == 0 || data.outerStride() == data.cols()) {
    const auto index = ExactIndex<T, Metric>::borrow(data.data(), data.rows(), data.cols());
    return index.search(queries, k, num_threads);
  }
  ExactIndex<T, Metric> index(data.cols());
  index.add(data);
  return index.search(queries, k, num_threads);
}

}  // namespace pstable
