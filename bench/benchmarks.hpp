#pragma once

// Each translation unit of pstable_bench registers its benchmarks from main().

#include <string>

#include "pstable/core/types.hpp"

namespace pstable_bench {

/// Fashion-MNIST: the 60,000 training images (the database) and the first 2,000 test images
/// (queries), pixels scaled to [0, 1], read once from $PSTABLE_FASHION_MNIST or
/// /usr/share/datasets/fashion-mnist. `error` says why when the files could not be read.
struct FashionMnist {
  pstable::RowMatrix<float> train;
  pstable::RowMatrix<float> queries;
  std::string error;
};
const FashionMnist& fashion_mnist();

/// Kernels (every instruction set the CPU runs, and the scalar twins) and the read bandwidth.
void register_kernel_benchmarks();

/// Exact search on Fashion-MNIST: single-query scan and batch (GEMM) search.
void register_search_benchmarks();

/// Opening the Fashion-MNIST E2LSH index: building it, loading its file by copy, by mapping.
void register_load_benchmarks();

}  // namespace pstable_bench
