#pragma once

#include <cstddef>
#include <cstdint>

#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Inner product a.b (maximum inner product search). Larger is better.
struct InnerProduct {
  static constexpr const char* name = "ip";
  static constexpr const char* type_name = "InnerProduct";  ///< the C++ tag, for messages
  static constexpr const char* aliases[] = {"inner_product", "dot"};
  static constexpr std::uint8_t file_code = 3;
  static constexpr bool is_similarity = true;
  static constexpr bool normalizes = false;
  static constexpr bool has_row_value = false;
  static constexpr bool has_product_form = true;
  static constexpr bool key_is_distance = false;  ///< key obeys the triangle inequality
  static constexpr bool key_is_squared_l2 = false;

  template <class T>
  static T row_value(const simd::KernelSet<T>&, const T*, std::size_t) noexcept {
    return T(0);
  }
  template <class T>
  static T key(const simd::KernelSet<T>& k, const T* row, T /*row_value*/, const T* query,
               std::size_t d) noexcept {
    return -k.dot(row, query, d);
  }
  template <class T>
  static T key_from_product(T product, T /*row_value*/) noexcept {
    return -product;
  }
  template <class T>
  static T key_to_value(T key) noexcept {
    return -key;
  }
};

}  // namespace pstable
