// A program that uses pstable as an outside project would: it must build and find neighbours.
#include <pstable/pstable.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

int main() {
  pstable::RowMatrix<float> points(3, 2);
  points << 0, 0, 1, 0, 5, 5;
  pstable::ExactIndex<float, pstable::Euclidean> index(2);
  index.add(points);
  pstable::RowMatrix<float> query(1, 2);
  query << 0.9f, 0.1f;
  const auto result = index.search(query, 1);
  std::cout << "pstable " << pstable::version() << " nearest: " << result.ids()(0, 0)
            << " kernels: " << pstable::simd::kernels<float>().arch << "\n";
  // Index files need zlib, found through pstable's package config.
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const auto path = (std::filesystem::temp_directory_path() /
                     ("pstable-consumer-" + std::to_string(stamp) + ".pst"))
                        .string();
  pstable::save_index(index, path);
  const auto loaded = pstable::load_index<pstable::ExactIndex<float, pstable::Euclidean>>(path);
  std::filesystem::remove(path);
  return result.ids()(0, 0) == 1 && loaded.size() == 3 ? 0 : 1;
}
