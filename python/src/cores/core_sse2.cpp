// The "sse2" core: module.cpp built as pstable._core_sse2 with the sse2 flags of setup.py and
// python/CMakeLists.txt. One source file per core, so each core gets its own object file.
#define PSTABLE_MODULE_NAME _core_sse2
#define PSTABLE_SIMD_NAME "sse2"
#include "../module.cpp"
