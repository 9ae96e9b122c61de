// The "avx512" core: module.cpp built as pstable._core_avx512 with the avx512 flags of setup.py and
// python/CMakeLists.txt. One source file per core, so each core gets its own object file.
#define PSTABLE_MODULE_NAME _core_avx512
#define PSTABLE_SIMD_NAME "avx512"
#include "../module.cpp"
