#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/detail/point_store.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"

namespace pstable::detail {

/// The indexed points with what their metric needs beside them, shared by every index kind:
/// validation of rows and queries, per-row norms (squared for Euclidean's GEMM expansion, inverse
/// for cosine, none for inner product) and the ranking key of a point for a query.
/// Keys are "smaller is better": squared distance, or the negated similarity.
template <class T, class Metric>
class PointSet {
 public:
  explicit PointSet(Eigen::Index dim) : store_((check_dimension(dim), dim)) {}

  Eigen::Index dim() const noexcept { return store_.dim(); }
  Eigen::Index size() const noexcept { return store_.size(); }
  bool owns_data() const noexcept { return store_.owns_data(); }
  const T* row(Id i) const noexcept { return store_.row(i); }
  Eigen::Map<const RowMatrix<T>> matrix() const noexcept { return store_.matrix(); }
  Eigen::Map<const RowMatrix<T>> rows(Eigen::Index begin, Eigen::Index count) const noexcept {
    return store_.rows(begin, count);
  }
  /// Squared norms (Euclidean) or inverse norms (Cosine) per row; empty for inner product.
  const std::vector<T>& norms() const noexcept { return norms_; }

  std::size_t memory_bytes() const noexcept {
    return store_.memory_bytes() + norms_.capacity() * sizeof(T);
  }

  /// Throws unless every row has dim() finite values (and is non-zero under cosine).
  void validate_rows(const MatrixRef<T>& rows, const char* what) const {
    check_rows(rows, dim(), what);
    check_finite(rows, what);
    check_magnitude<T, Metric>(rows, what);
    if constexpr (Metric::needs_norms) check_nonzero_rows(rows, what);
  }

  /// Appends validated rows. On an exception (allocation) nothing changed.
  void append(const MatrixRef<T>& rows) {
    norms_.reserve(static_cast<std::size_t>(size() + rows.rows()));
    const Eigen::Index first = size();
    store_.append(rows);
    append_norms(first, rows.rows());
  }

  /// Points at validated caller-owned rows; the set must be empty.
  void borrow(const T* data, Eigen::Index count) {
    store_.borrow(data, count);
    append_norms(0, count);
  }

  /// The query as keys need it: cosine divides it by its norm (into `buffer`, of dim() values).
  const T* prepare_query(const T* q, std::vector<T>& buffer) const {
    if constexpr (!std::is_same_v<Metric, Cosine>) {
      return q;
    } else {
      const auto d = static_cast<std::size_t>(dim());
      buffer.resize(d);
      T n2 = 0;
      for (std::size_t j = 0; j < d; ++j) n2 += q[j] * q[j];
      const T inv = T(1) / std::sqrt(n2);
      for (std::size_t j = 0; j < d; ++j) buffer[j] = q[j] * inv;
      return buffer.data();
    }
  }

  /// Ranking key of point i for a prepared query.
  T key(const simd::KernelSet<T>& kernels, const T* prepared_query, Id i) const noexcept {
    const auto d = static_cast<std::size_t>(dim());
    if constexpr (std::is_same_v<Metric, Euclidean>) {
      return kernels.l2_sq(row(i), prepared_query, d);
    } else if constexpr (std::is_same_v<Metric, Cosine>) {
      return -kernels.dot(row(i), prepared_query, d) * norms_[static_cast<std::size_t>(i)];
    } else {
      return -kernels.dot(row(i), prepared_query, d);
    }
  }

  /// Ranking key of point i from its (unnormalised-query) inner product, as GEMM gives it.
  /// Euclidean omits the query's own squared norm, which does not change the order.
  T key_from_product(T product, Id i) const noexcept {
    if constexpr (std::is_same_v<Metric, Euclidean>) {
      return norms_[static_cast<std::size_t>(i)] - T(2) * product;
    } else if constexpr (std::is_same_v<Metric, Cosine>) {
      return -product * norms_[static_cast<std::size_t>(i)];
    } else {
      return -product;
    }
  }

 private:
  void append_norms(Eigen::Index first, Eigen::Index count) {
    if constexpr (!std::is_same_v<Metric, InnerProduct>) {
      const auto& kernels = simd::kernels<T>();
      norms_.reserve(static_cast<std::size_t>(first + count));
      for (Eigen::Index i = first; i < first + count; ++i) {
        const T n2 = kernels.norm_sq(row(i), static_cast<std::size_t>(dim()));
        norms_.push_back(std::is_same_v<Metric, Cosine> ? T(1) / std::sqrt(n2) : n2);
      }
    }
  }

  PointStore<T> store_;
  std::vector<T> norms_;
};

}  // namespace pstable::detail
