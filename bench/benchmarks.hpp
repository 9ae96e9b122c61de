#pragma once

// Each translation unit of pstable_bench registers its benchmarks from main().

namespace pstable_bench {

/// Kernels (every instruction set the CPU runs, and the scalar twins) and the read bandwidth.
void register_kernel_benchmarks();

/// Exact search on Fashion-MNIST: single-query scan and batch (GEMM) search.
void register_search_benchmarks();

}  // namespace pstable_bench
