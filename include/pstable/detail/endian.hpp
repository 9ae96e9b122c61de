#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace pstable::detail {

/// pstable's files store every integer and float little-endian. These helpers encode and decode
/// one value at a time (headers) or whole arrays (data sections, one memcpy on little-endian hosts).

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
inline constexpr bool kHostLittleEndian = false;
#else
inline constexpr bool kHostLittleEndian = true;
#endif

/// The unsigned integer type with the size of E (E an arithmetic type of 1, 2, 4 or 8 bytes).
template <class E>
using BitsOf = std::conditional_t<
    sizeof(E) == 1, std::uint8_t,
    std::conditional_t<sizeof(E) == 2, std::uint16_t,
                       std::conditional_t<sizeof(E) == 4, std::uint32_t, std::uint64_t>>>;

/// Writes `value` as sizeof(E) little-endian bytes at `out`.
template <class E>
void store_le(unsigned char* out, E value) noexcept {
  static_assert(std::is_arithmetic_v<E>, "store_le takes integers and floats");
  BitsOf<E> bits;
  std::memcpy(&bits, &value, sizeof(E));
  for (std::size_t i = 0; i < sizeof(E); ++i) out[i] = static_cast<unsigned char>(bits >> (8 * i));
}

/// Reads sizeof(E) little-endian bytes at `in` as an E.
template <class E>
E load_le(const unsigned char* in) noexcept {
  static_assert(std::is_arithmetic_v<E>, "load_le takes integers and floats");
  BitsOf<E> bits = 0;
  for (std::size_t i = 0; i < sizeof(E); ++i)
    bits |= static_cast<BitsOf<E>>(BitsOf<E>(in[i]) << (8 * i));
  E value;
  std::memcpy(&value, &bits, sizeof(E));
  return value;
}

/// Copies `count` values to `out` as little-endian bytes (count * sizeof(E) bytes).
template <class E>
void array_to_le(const E* values, std::size_t count, unsigned char* out) noexcept {
  if constexpr (kHostLittleEndian || sizeof(E) == 1) {
    if (count > 0) std::memcpy(out, values, count * sizeof(E));
  } else {
    for (std::size_t i = 0; i < count; ++i) store_le(out + i * sizeof(E), values[i]);
  }
}

/// Decodes `count` little-endian values from `in` into `out`.
template <class E>
void array_from_le(const unsigned char* in, std::size_t count, E* out) noexcept {
  if constexpr (kHostLittleEndian || sizeof(E) == 1) {
    if (count > 0) std::memcpy(out, in, count * sizeof(E));
  } else {
    for (std::size_t i = 0; i < count; ++i) out[i] = load_le<E>(in + i * sizeof(E));
  }
}

}  // namespace pstable::detail
