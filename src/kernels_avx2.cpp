// The distance kernels built for one instruction set (xsimd::fma3<xsimd::avx2>); see src/CMakeLists.txt for its flags.
#include "pstable/simd/dispatch.hpp"

namespace pstable::simd {
PSTABLE_DECLARE_ARCH(, xsimd::fma3<xsimd::avx2>)
}  // namespace pstable::simd
