#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pstable::detail {

/// The boundary prepared queries start on: a cache line. A query is read once per candidate row,
/// thousands of times per search; when it straddles lines (a numpy array from malloc is 16-byte
/// aligned, one deserialised from a message may be 4-byte aligned), every wide load of it
/// touches two lines, which cost E2LSH's batch search about 7% on Fashion-MNIST.
inline constexpr std::size_t kQueryAlignment = 64;

/// Whether p starts on a kQueryAlignment boundary.
template <class T>
bool query_aligned(const T* p) noexcept {
  return reinterpret_cast<std::uintptr_t>(p) % kQueryAlignment == 0;
}

/// Room for `count` values inside `buffer` (grown as needed) starting on a kQueryAlignment
/// boundary. Valid until `buffer` is resized again.
template <class T>
T* aligned_space(std::vector<T>& buffer, std::size_t count) {
  static_assert(kQueryAlignment % sizeof(T) == 0, "values must tile a cache line");
  constexpr std::size_t slack = kQueryAlignment / sizeof(T);
  if (buffer.size() < count + slack) buffer.resize(count + slack);
  const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
  const std::size_t skip = (kQueryAlignment - address % kQueryAlignment) % kQueryAlignment;
  return buffer.data() + skip / sizeof(T);
}

}  // namespace pstable::detail
