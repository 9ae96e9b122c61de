#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Euclidean (L2) distance. Smaller is better; results report the distance itself (not squared).
///
/// Every metric is a stateless tag that carries its behaviour (the indexes know no metric by
/// name): a ranking key where smaller is better, an optional per-row value kept beside the rows,
/// the key from an inner product where the metric has one (batch search as a matrix product), and
/// the value reported to users. Here the key is the squared distance and the row value the
/// squared norm, so that ||x - q||^2 = ||x||^2 - 2 x.q + ||q||^2 ranks by ||x||^2 - 2 x.q.
struct Euclidean {
  static constexpr const char* name = "euclidean";
  static constexpr const char* type_name = "Euclidean";  ///< the C++ tag, for messages
  static constexpr const char* aliases[] = {"l2"};
  static constexpr std::uint8_t file_code = 1;  ///< metric byte of index files
  static constexpr bool is_similarity = false;  ///< results are distances, ascending
  static constexpr bool normalizes = false;     ///< compares directions of unit vectors
  static constexpr bool has_row_value = true;   ///< keeps row_value() per stored row
  static constexpr bool has_product_form = true;
  static constexpr bool key_is_distance = false;  ///< key obeys the triangle inequality
  /// key is the squared L2 distance, and key_from_product leaves out the query's squared norm
  static constexpr bool key_is_squared_l2 = true;

  template <class T>
  static T row_value(const simd::KernelSet<T>& k, const T* row, std::size_t d) noexcept {
    return k.norm_sq(row, d);
  }
  template <class T>
  static T key(const simd::KernelSet<T>& k, const T* row, T /*row_value*/, const T* query,
               std::size_t d) noexcept {
    return k.l2_sq(row, query, d);
  }
  template <class T>
  static T key_from_product(T product, T row_value) noexcept {
    return row_value - T(2) * product;
  }
  /// Internal ranking key (smaller is better) -> the value reported to users.
  template <class T>
  static T key_to_value(T key) noexcept {
    return std::sqrt(std::max(key, T(0)));
  }
};

}  // namespace pstable
