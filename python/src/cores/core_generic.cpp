// The "generic" core: module.cpp built as pstable._core_generic with the generic flags of setup.py and
// python/CMakeLists.txt. One source file per core, so each core gets its own object file.
#define PSTABLE_MODULE_NAME _core_generic
#define PSTABLE_SIMD_NAME "generic"
#include "../module.cpp"
