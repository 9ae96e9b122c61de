// A program that uses pstable as an outside project would: it must build and find neighbours.
#include <pstable/pstable.hpp>

#include <iostream>

int main() {
  pstable::RowMatrix<float> points(3, 2);
  points << 0, 0, 1, 0, 5, 5;
  pstable::ExactIndex<float, pstable::Euclidean> index(2);
  index.add(points);
  pstable::RowMatrix<float> query(1, 2);
  query << 0.9f, 0.1f;
  const auto result = index.search(query, 1);
  std::cout << "nearest: " << result.ids()(0, 0) << " kernels: "
            << pstable::simd::kernels<float>().arch << "\n";
  return result.ids()(0, 0) == 1 ? 0 : 1;
}
