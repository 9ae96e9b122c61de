#!/usr/bin/env bash
# Portability checks with Debian's cross compilers (scripts/setup.sh cross installs them):
#   windows  x86_64-w64-mingw32-g++ (posix threads): every public header compiles on its own in one
#            translation unit, and tests/portability/smoke.cpp (exact + E2LSH, save_index /
#            load_index through the Windows atomic replace) compiles and links. Nothing runs.
#   arm64    aarch64-linux-gnu-g++: the C++ test suite (build/aarch64, Release, no run-time
#            dispatch: xsimd's NEON kernels), run by ctest under qemu-aarch64.
# Usage: scripts/check_cross.sh [windows] [arm64]   (no argument: both)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(windows arm64)

scripts/setup.sh cross

for target in "${targets[@]}"; do
  case $target in
    windows)
      echo "== Windows (mingw-w64): headers and the smoke program compile and link"
      out=$root/build/windows
      mkdir -p "$out/include"
      # Eigen and xsimd are the build machine's headers (architecture-independent); mingw's
      # sysroot must not see the rest of /usr/include.
      ln -sfn /usr/include/eigen3/Eigen "$out/include/Eigen"
      ln -sfn /usr/include/xsimd "$out/include/xsimd"
      cxx=(x86_64-w64-mingw32-g++-posix -std=c++17 -O1 -Wall -Wextra -Wpedantic -Werror
           -Iinclude -isystem "$out/include")
      (cd include && find pstable -name '*.hpp' | LC_ALL=C sort | sed 's/.*/#include <&>/') \
        > "$out/all_headers.cpp"
      "${cxx[@]}" -fsyntax-only "$out/all_headers.cpp"
      "${cxx[@]}" tests/portability/smoke.cpp -static -lz -o "$out/smoke.exe"
      ;;
    arm64)
      echo "== ARM64: C++ tests cross-compiled, run under qemu-aarch64"
      # -ffp-contract=off: GCC contracts a*b+c into FMA by default on ARM64 (in its baseline, not
      # in x86-64's), which moves the last bit of the multi-probe scores; the tests compare the
      # generator with a reference implementation bit for bit, so both must round alike.
      cmake -S . -B build/aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake \
        -DCMAKE_BUILD_TYPE=Release -DPSTABLE_BUILD_BENCH=OFF -DPSTABLE_BUILD_EXAMPLES=OFF \
        -DCMAKE_CXX_FLAGS=-ffp-contract=off >/dev/null
      cmake --build build/aarch64 -j "$(nproc)" --target pstable_tests
      # The consumer checks configure and run native projects: not for a cross build. qemu-user
      # cannot run threads in the forked child of a threaded process (qemu asserts in its own
      # vCPU setup), so the fork test of the thread pool runs in the native builds only.
      # qemu runs the suite about 50x slower than native; the exhaustive brute-force comparison
      # of ExactIndex took 292 of its 405 s. Under qemu it runs for float Euclidean (the GEMM
      # path) and float Manhattan (the tile path); double, cosine and inner product take the
      # same code paths, which the range, soak and file tests cover on ARM64 too, and the native
      # builds run all eight.
      ctest --test-dir build/aarch64 -j "$(nproc)" --output-on-failure \
        -E '^consumer_|^a forked child gets a pool of its own$|^exact search equals brute force - ExactIndex<(double, .*|float, (Cosine|InnerProduct))>$'
      ;;
    *) echo "check_cross.sh: unknown target '$target' (windows, arm64)" >&2; exit 2 ;;
  esac
done
