#pragma once

#include <cstddef>

namespace pstable::simd::scalar {

/// Plain one-accumulator loops: the reference the SIMD kernels are tested against.

template <class T>
T l2_sq(const T* a, const T* b, std::size_t n) noexcept {
  T sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T diff = a[i] - b[i];
    sum += diff * diff;
  }
  return sum;
}

template <class T>
T l1(const T* a, const T* b, std::size_t n) noexcept {
  T sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += a[i] < b[i] ? b[i] - a[i] : a[i] - b[i];
  return sum;
}

template <class T>
T dot(const T* a, const T* b, std::size_t n) noexcept {
  T sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

template <class T>
T norm_sq(const T* a, std::size_t n) noexcept {
  return dot(a, a, n);
}

}  // namespace pstable::simd::scalar
