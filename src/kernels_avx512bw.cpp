// The distance kernels built for one instruction set (xsimd::avx512bw); see src/CMakeLists.txt for its flags.
#include "pstable/simd/dispatch.hpp"

namespace pstable::simd {
PSTABLE_DECLARE_ARCH(, xsimd::avx512bw)
}  // namespace pstable::simd
