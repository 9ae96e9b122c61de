// The distance kernels built for one instruction set (xsimd::sse4_2); see src/CMakeLists.txt for its flags.
#include "pstable/simd/dispatch.hpp"

namespace pstable::simd {
PSTABLE_DECLARE_ARCH(, xsimd::sse4_2)
}  // namespace pstable::simd
