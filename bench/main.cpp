// pstable_bench: Google Benchmark's usual command line (--benchmark_filter=..., --benchmark_format=json).
#include <benchmark/benchmark.h>

#include "benchmarks.hpp"

int main(int argc, char** argv) {
  pstable_bench::register_kernel_benchmarks();
  pstable_bench::register_search_benchmarks();
  pstable_bench::register_load_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
