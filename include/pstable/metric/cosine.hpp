#pragma once

namespace pstable {

/// Cosine similarity a.b / (|a| |b|). Larger is better; results report the similarity in [-1, 1].
/// Zero vectors have no direction and are rejected (pstable::InvalidData).
struct Cosine {
  static constexpr const char* name = "cosine";
  static constexpr bool is_similarity = true;
  static constexpr bool needs_norms = true;

  template <class T>
  static T key_to_value(T key) noexcept {
    return -key;
  }
};

}  // namespace pstable
