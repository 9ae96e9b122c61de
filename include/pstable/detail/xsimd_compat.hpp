#pragma once

#include <xsimd/xsimd.hpp>

namespace pstable::detail {

/// The sum of a batch's lanes. xsimd 9 renamed `hadd` to `reduce_add` (and later releases removed
/// `hadd`); Debian 12 ships xsimd 8.1, which only has `hadd`. One name for both.
template <class T, class Arch>
T reduce_add(const xsimd::batch<T, Arch>& v) noexcept {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(v);
#else
  return xsimd::hadd(v);
#endif
}

}  // namespace pstable::detail
