#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Cosine similarity a.b / (|a| |b|). Larger is better; results report the similarity in [-1, 1].
/// Zero vectors have no direction and are rejected (pstable::InvalidData). The stored rows are
/// kept as given, with their inverse norms beside them; queries are normalised.
struct Cosine {
  static constexpr const char* name = "cosine";
  static constexpr const char* type_name = "Cosine";  ///< the C++ tag, for messages
  static constexpr const char* aliases[] = {"cos"};
  static constexpr std::uint8_t file_code = 2;
  static constexpr bool is_similarity = true;
  static constexpr bool normalizes = true;
  static constexpr bool has_row_value = true;
  static constexpr bool has_product_form = true;
  static constexpr bool key_is_distance = false;  ///< key obeys the triangle inequality
  static constexpr bool key_is_squared_l2 = false;

  template <class T>
  static T row_value(const simd::KernelSet<T>& k, const T* row, std::size_t d) noexcept {
    return T(1) / std::sqrt(k.norm_sq(row, d));
  }
  template <class T>
  static T key(const simd::KernelSet<T>& k, const T* row, T row_value, const T* query,
               std::size_t d) noexcept {
    return -k.dot(row, query, d) * row_value;
  }
  template <class T>
  static T key_from_product(T product, T row_value) noexcept {
    return -product * row_value;
  }
  template <class T>
  static T key_to_value(T key) noexcept {
    return -key;
  }
};

}  // namespace pstable
