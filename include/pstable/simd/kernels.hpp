#pragma once

#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "pstable/detail/xsimd_compat.hpp"

namespace pstable::simd {

/// Distance kernels in xsimd's dispatchable form: a functor whose call operator is templated on
/// the architecture tag, so each instantiation is a distinct symbol and code built for AVX-512,
/// AVX2 and SSE can live in one program. Pointers may be unaligned; any length is accepted. Four
/// independent accumulators hide the FMA latency; the tail runs in scalar code.

namespace detail {

// Every helper is templated on Arch, so no symbol is shared between code built for different
// instruction sets (a scalar tail built with -mavx512f may contain AVX-512 or FMA instructions).
template <class Arch, class T, template <class> class Step>
T reduce4(const T* a, const T* b, std::size_t n) noexcept {
  const Step<Arch> step;
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  batch acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    acc0 = step(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
    acc1 = step(batch::load_unaligned(a + i + w), batch::load_unaligned(b + i + w), acc1);
    acc2 = step(batch::load_unaligned(a + i + 2 * w), batch::load_unaligned(b + i + 2 * w), acc2);
    acc3 = step(batch::load_unaligned(a + i + 3 * w), batch::load_unaligned(b + i + 3 * w), acc3);
  }
  for (; i + w <= n; i += w) {
    acc0 = step(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
  }
  T sum = pstable::detail::reduce_add((acc0 + acc1) + (acc2 + acc3));
  for (; i < n; ++i) {
    sum = step.tail(a[i], b[i], sum);
  }
  return sum;
}

template <class Arch>
struct SquaredDifference {
  template <class V>
  V operator()(const V& x, const V& y, const V& acc) const noexcept {
    const V d = x - y;
    return xsimd::fma(d, d, acc);
  }
  template <class T>
  T tail(T x, T y, T acc) const noexcept {
    const T d = x - y;
    return acc + d * d;
  }
};

template <class Arch>
struct AbsoluteDifference {
  template <class V>
  V operator()(const V& x, const V& y, const V& acc) const noexcept {
    return acc + xsimd::abs(x - y);
  }
  template <class T>
  T tail(T x, T y, T acc) const noexcept {
    return acc + (x < y ? y - x : x - y);
  }
};

template <class Arch>
struct Product {
  template <class V>
  V operator()(const V& x, const V& y, const V& acc) const noexcept {
    return xsimd::fma(x, y, acc);
  }
  template <class T>
  T tail(T x, T y, T acc) const noexcept {
    return acc + x * y;
  }
};

}  // namespace detail

/// Squared Euclidean distance sum_i (a_i - b_i)^2.
struct L2Sq {
  template <class Arch, class T>
  T operator()(Arch, const T* a, const T* b, std::size_t n) const noexcept {
    return detail::reduce4<Arch, T, detail::SquaredDifference>(a, b, n);
  }
};

/// Manhattan (L1) distance sum_i |a_i - b_i|.
struct L1 {
  template <class Arch, class T>
  T operator()(Arch, const T* a, const T* b, std::size_t n) const noexcept {
    return detail::reduce4<Arch, T, detail::AbsoluteDifference>(a, b, n);
  }
};

/// Inner product sum_i a_i b_i.
struct Dot {
  template <class Arch, class T>
  T operator()(Arch, const T* a, const T* b, std::size_t n) const noexcept {
    return detail::reduce4<Arch, T, detail::Product>(a, b, n);
  }
};

/// Squared norm sum_i a_i^2.
struct NormSq {
  template <class Arch, class T>
  T operator()(Arch, const T* a, std::size_t n) const noexcept {
    return detail::reduce4<Arch, T, detail::Product>(a, a, n);
  }
};

}  // namespace pstable::simd
