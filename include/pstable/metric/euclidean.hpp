#pragma once

#include <algorithm>
#include <cmath>

namespace pstable {

/// Euclidean (L2) distance. Smaller is better; results report the distance itself (not squared).
struct Euclidean {
  static constexpr const char* name = "euclidean";
  static constexpr bool is_similarity = false;  ///< results are distances, ascending
  static constexpr bool needs_norms = false;    ///< rows need not be non-zero

  /// Internal ranking key (smaller is better) -> the value reported to users.
  template <class T>
  static T key_to_value(T key) noexcept {
    return std::sqrt(std::max(key, T(0)));
  }
};

}  // namespace pstable
