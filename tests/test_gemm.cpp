#include "catch_compat.hpp"

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <vector>

#include <Eigen/Core>

#include "pstable/core/types.hpp"
#include "pstable/detail/gemm.hpp"

using pstable::RowMatrix;
using pstable::detail::GemmWorkspace;

namespace {

template <class T>
RowMatrix<T> random_rows(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::srand(seed);
  return RowMatrix<T>::Random(rows, cols);
}

// The oracle is Eigen's own product expression: the workspace must give the same bits, with
// Eigen's blocking and its small-product and matrix-vector fallbacks.
template <class T>
void check_shapes(GemmWorkspace<T>& gemm, bool reversed) {
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  // (queries, points, depth): GEMM-sized, edge blocks, one row, one column, tiny, empty depth,
  // the hash product of a query block (L k = 144).
  const std::vector<std::tuple<int, int, int>> shapes = {
      {512, 1024, 784}, {37, 1000, 784}, {512, 59, 131}, {1, 300, 64}, {300, 1, 64},
      {3, 4, 5},        {16, 16, 1},     {600, 2000, 3}, {2, 2, 0},    {128, 144, 784}};
  auto order = shapes;
  if (reversed) std::reverse(order.begin(), order.end());  // buffers grown after smaller products
  unsigned seed = 1;
  for (const auto& [m, n, d] : order) {
    CAPTURE(m, n, d);
    const RowMatrix<T> lhs = random_rows<T>(m, d, seed++);
    const RowMatrix<T> points = random_rows<T>(n, d, seed++);
    // The exact scan's product: queries times a block of row-major points, transposed.
    RowMatrix<T> want(m, n), got(m, n);
    want.noalias() = lhs * points.transpose();
    got.setConstant(T(7));  // the workspace must overwrite, not accumulate
    gemm.multiply(lhs, points.transpose(), got);
    CHECK((got.array() == want.array()).all());
    // The hash product: rows (a block of a row-major matrix) times a column-major matrix.
    const ColMatrix projections = points.transpose();
    const auto block = lhs.middleRows(0, m);
    want.noalias() = block * projections;
    got.setZero();
    gemm.multiply(block, projections, got);
    CHECK((got.array() == want.array()).all());
    // Into a map of a bigger buffer, as the scan writes its products.
    want.noalias() = lhs * points.transpose();
    std::vector<T> storage(static_cast<std::size_t>(m * n) + 16, T(-1));
    Eigen::Map<RowMatrix<T>> mapped(storage.data(), m, n);
    gemm.multiply(lhs, points.transpose(), mapped);
    CHECK((mapped.array() == want.array()).all());
    CHECK(storage.back() == T(-1));
  }
}

}  // namespace

TEST_CASE("GemmWorkspace gives Eigen's products bit for bit, for every shape", "[gemm]") {
  const bool reversed = GENERATE(false, true);
  GemmWorkspace<float> f;
  check_shapes(f, reversed);
  GemmWorkspace<double> d;
  check_shapes(d, reversed);
}

TEST_CASE("GemmWorkspace keeps its buffers across products", "[gemm]") {
  GemmWorkspace<float> gemm;
  const RowMatrix<float> lhs = random_rows<float>(512, 784, 3);
  const RowMatrix<float> points = random_rows<float>(1024, 784, 4);
  RowMatrix<float> out(512, 1024);
  gemm.multiply(lhs, points.transpose(), out);
  const auto held = gemm.memory_bytes();
  RowMatrix<float> small(40, 50);
  gemm.multiply(lhs.topRows(40), points.topRows(50).transpose(), small);
  CHECK(gemm.memory_bytes() == held);  // a smaller product reuses, never shrinks
  gemm.multiply(lhs, points.transpose(), out);
  CHECK(gemm.memory_bytes() == held);
#if PSTABLE_GEMM_KEEPS_BUFFERS
  CHECK(held > 0);
#else
  CHECK(held == 0);
#endif
}
