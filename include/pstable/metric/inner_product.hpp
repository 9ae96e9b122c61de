#pragma once

namespace pstable {

/// Inner product a.b (maximum inner product search). Larger is better.
struct InnerProduct {
  static constexpr const char* name = "ip";
  static constexpr bool is_similarity = true;
  static constexpr bool needs_norms = false;

  template <class T>
  static T key_to_value(T key) noexcept {
    return -key;
  }
};

}  // namespace pstable
