#pragma once

#include <cstddef>
#include <cstdint>

#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Manhattan (L1) distance sum_i |a_i - b_i|. Smaller is better; results report the distance.
/// It has no inner-product form, so batch exact search scans in cache-sized tiles instead of a
/// matrix product; E2LSH hashes it with the 1-stable (Cauchy) family.
struct Manhattan {
  static constexpr const char* name = "manhattan";
  static constexpr const char* type_name = "Manhattan";  ///< the C++ tag, for messages
  static constexpr const char* aliases[] = {"l1", "cityblock"};
  static constexpr std::uint8_t file_code = 4;
  static constexpr bool is_similarity = false;
  static constexpr bool normalizes = false;
  static constexpr bool has_row_value = false;
  static constexpr bool has_product_form = false;
  static constexpr bool key_is_distance = true;  ///< key obeys the triangle inequality
  static constexpr bool key_is_squared_l2 = false;

  template <class T>
  static T row_value(const simd::KernelSet<T>&, const T*, std::size_t) noexcept {
    return T(0);
  }
  template <class T>
  static T key(const simd::KernelSet<T>& k, const T* row, T /*row_value*/, const T* query,
               std::size_t d) noexcept {
    return k.l1(row, query, d);
  }
  template <class T>
  static T key_to_value(T key) noexcept {
    return key;
  }
};

}  // namespace pstable
