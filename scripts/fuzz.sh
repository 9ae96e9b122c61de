#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer)
# and runs each for a bounded time from the checked-in seeds; fails on any finding (crash,
# sanitizer report, leak, timeout, allocation above the memory limit). Findings are written to
# build/fuzz/findings/<target>-crash-..., reproduce one with build/fuzz/fuzz/<target> FILE.
# Usage: scripts/fuzz.sh [seconds-per-target] [target ...]   (default 60 s, every target;
# targets run in parallel, one per core: PSTABLE_FUZZ_JOBS=1 runs them one after another)
# A long campaign: scripts/fuzz.sh 1800   (docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
jobs=$(nproc)
all_targets=(fuzz_npy fuzz_vecs fuzz_idx fuzz_idx_gzip
             fuzz_load_exact fuzz_load_exact_fixed fuzz_load_e2lsh fuzz_load_e2lsh_fixed)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")

scripts/setup.sh fuzz

cmake -S "$root" -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DPSTABLE_BUILD_FUZZ=ON -DPSTABLE_BUILD_TESTS=OFF -DPSTABLE_BUILD_BENCH=OFF \
  -DPSTABLE_BUILD_EXAMPLES=OFF -DPSTABLE_INSTALL=OFF >/dev/null
cmake --build build/fuzz -j "$jobs" --target "${all_targets[@]}"


mkdir -p build/fuzz/findings
# One target per core at a time (PSTABLE_FUZZ_JOBS overrides the number), so a long campaign
# takes targets x seconds / cores; each target runs on its own corpus.
run_target() {
  local t=$1 log="build/fuzz/findings/$1.log"
  # New inputs go to build/fuzz/corpus/<t> (the first folder); the checked-in seeds stay as they are.
  mkdir -p "build/fuzz/corpus/$t"
  # -rss_limit_mb / -malloc_limit_mb: inputs are at most -max_len bytes, so a read or load that
  # allocates more than 512 MiB breaks the bounded-memory promise and is a finding.
  if "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -max_len=4096 \
       -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
       -artifact_prefix="build/fuzz/findings/$t-" \
       "build/fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    echo ok >"build/fuzz/findings/$t.result"
  else
    echo FINDING >"build/fuzz/findings/$t.result"
  fi
}
parallel=${PSTABLE_FUZZ_JOBS:-$jobs}
running=0
for t in "${targets[@]}"; do
  rm -f "build/fuzz/findings/$t.result"
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

status=0
for t in "${targets[@]}"; do
  log="build/fuzz/findings/$t.log"
  result=$(cat "build/fuzz/findings/$t.result" 2>/dev/null || echo FINDING)
  [ "$result" = ok ] || status=1
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz.sh: $t: $result, $runs executions in ${seconds} s (log: $log)"
  [ "$result" = ok ] || tail -n 40 "$log" >&2
done
exit "$status"
