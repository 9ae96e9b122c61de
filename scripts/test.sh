#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what is missing, builds the Release and the
# AddressSanitizer+UndefinedBehaviorSanitizer configurations once each, runs ctest on both, the
# ThreadSanitizer build of the thread tests, each libFuzzer target for PSTABLE_FUZZ_SECONDS
# (default 30) seconds (scripts/fuzz.sh), the Windows and ARM64 cross builds
# (scripts/check_cross.sh), the Python package from its sdist and the web example.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
# Each stage's banner says when it started (seconds since this script began), so a slow CI run
# shows which stage grew; the whole run should stay under 40 minutes on two cores.
stage() { echo "== $* [$(date +%T), ${SECONDS} s]"; }
trap 'echo "== done or stopped after ${SECONDS} s"' EXIT

scripts/setup.sh build data bench python fuzz cross format

stage "Formatting (.clang-format)"
scripts/format.sh --check

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

stage "Release build and tests"
build build/release
ctest --test-dir build/release -j "$jobs" --output-on-failure
# The bench and the demo are built above; only a short smoke run of the kernel benchmarks here
# (the search benchmarks take minutes: see docs/performance.md).
build/release/bench/pstable_bench --benchmark_filter='^kernel/l2_sq/float/.*/784$' \
  --benchmark_min_time=0.01 >/dev/null

stage "AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
# clang-14 (installed for the fuzz targets) at -O1 with line tables: the whole build takes about
# 6 minutes here, where g++ at -O2 -g took 22. Without NDEBUG, so Eigen's own index and size
# assertions run as well. The Release build above is g++'s, so both compilers' warnings are seen.
build build/sanitize -DPSTABLE_SANITIZE=ON -DPSTABLE_BUILD_BENCH=OFF -DPSTABLE_BUILD_EXAMPLES=OFF \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/sanitize -j "$jobs" --output-on-failure -E '^consumer_'

stage "ThreadSanitizer: the thread tests (thread pool, parallel_for, concurrent searches, saves, loads)"
# One small test binary (not the whole suite): a minute or two to build, seconds to run.
cmake -S "$root" -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPSTABLE_BUILD_BENCH=OFF \
  -DPSTABLE_BUILD_EXAMPLES=OFF -DPSTABLE_BUILD_PYTHON=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build/tsan -j "$jobs" --target pstable_thread_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build/tsan/tests/pstable_thread_tests
stage "libFuzzer targets: each reader and index load from the checked-in seeds, bounded time"
scripts/fuzz.sh "${PSTABLE_FUZZ_SECONDS:-30}"

stage "Cross builds: Windows (mingw-w64, compile and link) and ARM64 (tests under qemu)"
scripts/check_cross.sh

stage "Python package: sdist -> wheel -> fresh venv, pytest, notebooks"
scripts/test_python.sh

stage "Web search example: Flask routes and headless Chromium, on the installed module"
scripts/test_web.sh
