#pragma once

// Reproducible test data shared by the test files.

#include <random>

#include "pstable/core/types.hpp"

namespace testing {

/// rows x cols standard normal values from a fixed seed (drawn in double, so float and double
/// matrices of the same seed hold the same values up to rounding).
template <class T>
pstable::RowMatrix<T> gaussian(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, 1);
  pstable::RowMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(g(rng));
  return m;
}

}  // namespace testing
