// The C++ peer of bench_vs_cpp.py: the same exact search the Python module runs, timed in C++.
// Reads raw row-major float32 files written by bench_vs_cpp.py.
// Usage: time_exact DATA ROWS QUERIES QROWS DIM K THREADS REPEATS
// Prints one line per repeat: "seconds <s> checksum <sum of ids>".

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "pstable/pstable.hpp"

namespace {

pstable::RowMatrix<float> read_raw(const std::string& path, Eigen::Index rows, Eigen::Index dim) {
  pstable::RowMatrix<float> m(rows, dim);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(m.data()), static_cast<std::streamsize>(m.size() * 4));
  if (!in) throw pstable::IoError("cannot read " + path);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::cerr << "usage: time_exact DATA ROWS QUERIES QROWS DIM K THREADS REPEATS\n";
    return 2;
  }
  const Eigen::Index dim = std::atol(argv[5]);
  const auto data = read_raw(argv[1], std::atol(argv[2]), dim);
  const auto queries = read_raw(argv[3], std::atol(argv[4]), dim);
  const Eigen::Index k = std::atol(argv[6]);
  const int threads = std::atoi(argv[7]);
  const int repeats = std::atoi(argv[8]);

  pstable::ExactIndex<float, pstable::Euclidean> index(dim);
  index.add(data);
  std::cout << "kernels " << pstable::simd::kernels<float>().arch << std::endl;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const auto result = index.search(queries, k, threads);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::cout << "seconds " << took.count() << " checksum " << result.ids().sum() << std::endl;
  }
  return 0;
}
