#pragma once

#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "pstable/simd/kernels.hpp"

namespace pstable::simd {

/// The distance kernels an index calls, as plain function pointers chosen once.
template <class T>
struct KernelSet {
  T (*l2_sq)(const T*, const T*, std::size_t) noexcept;
  T (*dot)(const T*, const T*, std::size_t) noexcept;
  T (*norm_sq)(const T*, std::size_t) noexcept;
  T (*l1)(const T*, const T*, std::size_t) noexcept;
  const char* arch;  ///< xsimd's name of the instruction set, e.g. "avx512bw", "fma3+avx2", "sse2"
};

namespace detail {

template <class Arch, class T>
T l2_sq_fn(const T* a, const T* b, std::size_t n) noexcept {
  return L2Sq{}(Arch{}, a, b, n);
}
template <class Arch, class T>
T dot_fn(const T* a, const T* b, std::size_t n) noexcept {
  return Dot{}(Arch{}, a, b, n);
}
template <class Arch, class T>
T norm_sq_fn(const T* a, std::size_t n) noexcept {
  return NormSq{}(Arch{}, a, n);
}

template <class Arch, class T>
T l1_fn(const T* a, const T* b, std::size_t n) noexcept {
  return L1{}(Arch{}, a, b, n);
}

template <class Arch, class T>
KernelSet<T> make_kernel_set() noexcept {
  return {&l2_sq_fn<Arch, T>, &dot_fn<Arch, T>, &norm_sq_fn<Arch, T>, &l1_fn<Arch, T>,
          Arch::name()};
}

}  // namespace detail

#if defined(PSTABLE_RUNTIME_DISPATCH)

/// Instruction sets the `pstable::dispatch` library is built for, best first.
using DispatchArchs =
    xsimd::arch_list<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::sse4_2, xsimd::sse2>;

#define PSTABLE_DECLARE_KERNELS(EXTERN, ARCH, T)                                         \
  EXTERN template T detail::l2_sq_fn<ARCH, T>(const T*, const T*, std::size_t) noexcept; \
  EXTERN template T detail::dot_fn<ARCH, T>(const T*, const T*, std::size_t) noexcept;   \
  EXTERN template T detail::norm_sq_fn<ARCH, T>(const T*, std::size_t) noexcept;         \
  EXTERN template T detail::l1_fn<ARCH, T>(const T*, const T*, std::size_t) noexcept;

#define PSTABLE_DECLARE_ARCH(EXTERN, ARCH)     \
  PSTABLE_DECLARE_KERNELS(EXTERN, ARCH, float) \
  PSTABLE_DECLARE_KERNELS(EXTERN, ARCH, double)

// Built in the per-architecture translation units of the pstable::dispatch library.
PSTABLE_DECLARE_ARCH(extern, xsimd::avx512bw)
PSTABLE_DECLARE_ARCH(extern, xsimd::fma3<xsimd::avx2>)
PSTABLE_DECLARE_ARCH(extern, xsimd::sse4_2)
PSTABLE_DECLARE_ARCH(extern, xsimd::sse2)

/// The kernels for the best instruction set this CPU supports, chosen at the first call with
/// xsimd::dispatch (link `pstable::dispatch`, which defines PSTABLE_RUNTIME_DISPATCH).
template <class T>
const KernelSet<T>& kernels() noexcept;

extern template const KernelSet<float>& kernels<float>() noexcept;
extern template const KernelSet<double>& kernels<double>() noexcept;

#else

/// The kernels for the instruction set the compiler flags allow (xsimd::default_arch): with
/// `-mavx2 -mfma` AVX2, with `-march=native` the best of the build machine, with no flags SSE2.
template <class T>
const KernelSet<T>& kernels() noexcept {
  static const KernelSet<T> set = detail::make_kernel_set<xsimd::default_arch, T>();
  return set;
}

#endif

}  // namespace pstable::simd
