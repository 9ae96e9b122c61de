# Cross-compiles for ARM64 Linux with Debian's g++-aarch64-linux-gnu; the programs run under
# qemu-aarch64 (qemu-user), which ctest uses through CMAKE_CROSSCOMPILING_EMULATOR.
#   cmake -S . -B build/aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
# Eigen, xsimd and Catch2 are the host's headers (architecture-independent); zlib is Debian's
# arm64 package (multiarch: zlib1g-dev:arm64). Linked statically, so qemu needs no sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(ZLIB_USE_STATIC_LIBS ON)  # libz.a (CMake 3.24+)
find_program(PSTABLE_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${PSTABLE_QEMU_AARCH64})
# Debian's xsimd package config lives under the build machine's multiarch directory.
if(NOT DEFINED xsimd_DIR AND EXISTS /usr/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu/cmake/xsimd)
  set(xsimd_DIR /usr/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu/cmake/xsimd CACHE PATH "xsimd's CMake package")
endif()
