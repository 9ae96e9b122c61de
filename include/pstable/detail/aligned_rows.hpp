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

/// Values per row so that rows of d values laid out back to back all stay aligned.
template <class T>
std::size_t aligned_stride(std::size_t d) noexcept {
  constexpr std::size_t per_line = kQueryAlignment / sizeof(T);
  static_assert(kQueryAlignment % sizeof(T) == 0, "values must tile a cache line");
  return (d + per_line - 1) / per_line * per_line;
}

/// The first of `rows` rows of `stride` values (a multiple of aligned_stride's unit) inside
/// `buffer`, grown as needed, starting on a kQueryAlignment boundary. Valid until `buffer` is
/// resized again.
template <class T>
T* aligned_rows(std::vector<T>& buffer, std::size_t rows, std::size_t stride) {
  constexpr std::size_t slack = kQueryAlignment / sizeof(T);
  if (buffer.size() < rows * stride + slack) buffer.resize(rows * stride + slack);
  const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
  const std::size_t skip = (kQueryAlignment - address % kQueryAlignment) % kQueryAlignment;
  return buffer.data() + skip / sizeof(T);
}

}  // namespace pstable::detail
