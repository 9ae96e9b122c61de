// Runtime selection of the distance kernels (the pstable::dispatch library). Built with the
// baseline flags; the kernels themselves come from the per-architecture translation units.
#include "pstable/simd/dispatch.hpp"

namespace pstable::simd {

namespace {

template <class T>
struct Pick {
  template <class Arch>
  KernelSet<T> operator()(Arch) const noexcept {
    return detail::make_kernel_set<Arch, T>();
  }
};

}  // namespace

template <class T>
const KernelSet<T>& kernels() noexcept {
  static const KernelSet<T> set = xsimd::dispatch<DispatchArchs>(Pick<T>{})();
  return set;
}

template const KernelSet<float>& kernels<float>() noexcept;
template const KernelSet<double>& kernels<double>() noexcept;

}  // namespace pstable::simd
