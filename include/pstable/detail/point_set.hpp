#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/detail/aligned_space.hpp"
#include "pstable/detail/point_store.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"

namespace pstable::detail {

/// The indexed points with what their metric needs beside them, shared by every index kind: the
/// flat (full-precision) point storage. It validates rows and queries, keeps the metric's per-row
/// value (Metric::row_value: squared norms for Euclidean's product form, inverse norms for cosine,
/// nothing otherwise) and scores a stored row against a prepared query with the metric's key
/// (smaller is better). Everything metric-specific comes from the Metric tag.
///
/// This is the storage seam of the indexes: E2LSHIndex holds its rows through a Storage type with
/// this interface (dim, size, validate_rows, append, prepare_query, key, row, prefetch,
/// memory_bytes), so storages that keep compressed codes plug in without touching its logic. A
/// storage with `kEstimates` (Sq8Storage) also scores candidates by key intervals (encode_query,
/// bounds) before the exact `key`; this one scores with `key` directly.
template <class T, class Metric>
class PointSet {
 public:
  using Scalar = T;
  static constexpr bool kEstimates = false;
  static constexpr const char* name = "full";
  static constexpr std::uint8_t file_code = 0;  ///< header byte of its index files
  /// No query form beyond the prepared query.
  struct QueryCode {};

  explicit PointSet(Eigen::Index dim) : store_((check_dimension(dim), dim)) {}

  Eigen::Index dim() const noexcept { return store_.dim(); }
  Eigen::Index size() const noexcept { return store_.size(); }
  bool owns_data() const noexcept { return store_.owns_data(); }
  const T* row(Id i) const noexcept { return store_.row(i); }
  Eigen::Map<const RowMatrix<T>> matrix() const noexcept { return store_.matrix(); }
  Eigen::Map<const RowMatrix<T>> rows(Eigen::Index begin, Eigen::Index count) const noexcept {
    return store_.rows(begin, count);
  }
  /// Metric::row_value of each row (empty when the metric keeps none).
  const std::vector<T>& row_values() const noexcept { return values_; }

  std::size_t memory_bytes() const noexcept {
    return store_.memory_bytes() + values_.capacity() * sizeof(T);
  }

  /// Throws unless every row has dim() finite values (and is non-zero under cosine).
  void validate_rows(const MatrixRef<T>& rows, const char* what) const {
    check_rows(rows, dim(), what);
    check_finite(rows, what);
    check_magnitude<T, Metric>(rows, what);
    if constexpr (Metric::normalizes) check_nonzero_rows(rows, what);
  }

  /// Appends validated rows. On an exception (allocation) nothing changed.
  void append(const MatrixRef<T>& rows) {
    if constexpr (Metric::has_row_value)
      values_.reserve(static_cast<std::size_t>(size() + rows.rows()));
    const Eigen::Index first = size();
    store_.append(rows);
    append_values(first, rows.rows());
  }

  /// Points at validated rows the caller keeps alive (or `owner` does, see PointStore); the set
  /// must be empty.
  void borrow(const T* data, Eigen::Index count, std::shared_ptr<const void> owner = {}) {
    store_.borrow(data, count, std::move(owner));
    append_values(0, count);
  }

  /// The query as keys need it, on a cache-line boundary (detail::kQueryAlignment): `q` itself
  /// when it is aligned and the metric does not normalise, else a copy inside `buffer`, divided
  /// by its norm for a normalising metric. Valid until `buffer` is used again.
  const T* prepare_query(const T* q, std::vector<T>& buffer) const {
    const auto d = static_cast<std::size_t>(dim());
    if constexpr (!Metric::normalizes) {
      if (query_aligned(q)) return q;
      T* out = aligned_space(buffer, d);
      std::copy(q, q + d, out);
      return out;
    } else {
      T* out = aligned_space(buffer, d);
      T n2 = 0;
      for (std::size_t j = 0; j < d; ++j) n2 += q[j] * q[j];
      const T inv = T(1) / std::sqrt(n2);
      for (std::size_t j = 0; j < d; ++j) out[j] = q[j] * inv;
      return out;
    }
  }

  /// Ranking key of point i for a prepared query.
  T key(const simd::KernelSet<T>& kernels, const T* prepared_query, Id i) const noexcept {
    return Metric::key(kernels, row(i), value(i), prepared_query, static_cast<std::size_t>(dim()));
  }

  /// Ranking key of point i from its inner product with the (normalised) query, as a matrix
  /// product gives it; only for metrics with a product form.
  T key_from_product(T product, Id i) const noexcept {
    return Metric::key_from_product(product, value(i));
  }

  /// Asks the memory system for row i ahead of its key.
  void prefetch_row(Id i) const noexcept { prefetch(i); }
  void prefetch(Id i) const noexcept {
    const char* p = reinterpret_cast<const char*>(row(i));
    const std::size_t bytes = static_cast<std::size_t>(dim()) * sizeof(T);
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
  }

 private:
  T value(Id i) const noexcept {
    if constexpr (Metric::has_row_value) {
      return values_[static_cast<std::size_t>(i)];
    } else {
      return T(0);
    }
  }

  void append_values(Eigen::Index first, Eigen::Index count) {
    if constexpr (Metric::has_row_value) {
      const auto& kernels = simd::kernels<T>();
      values_.reserve(static_cast<std::size_t>(first + count));
      for (Eigen::Index i = first; i < first + count; ++i) {
        values_.push_back(Metric::row_value(kernels, row(i), static_cast<std::size_t>(dim())));
      }
    }
  }

  PointStore<T> store_;
  std::vector<T> values_;
};

}  // namespace pstable::detail
