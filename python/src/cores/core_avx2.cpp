// The "avx2" core: module.cpp built as pstable._core_avx2 with the avx2 flags of setup.py and
// python/CMakeLists.txt. One source file per core, so each core gets its own object file.
#define PSTABLE_MODULE_NAME _core_avx2
#define PSTABLE_SIMD_NAME "avx2"
#include "../module.cpp"
