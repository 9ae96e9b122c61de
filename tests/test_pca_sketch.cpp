#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "test_data.hpp"
#include "pstable/storage/pca_sketch.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Rows near a low-rank subspace (rank 12), shifted by `offset`, plus noise of scale `noise`.
template <class T>
RowMatrix<T> low_rank(Eigen::Index rows, Eigen::Index cols, double offset, double noise,
                      unsigned seed) {
  const RowMatrix<T> basis = gaussian<T>(12, cols, seed);
  RowMatrix<T> m = gaussian<T>(rows, 12, seed + 1) * basis;
  m += gaussian<T>(rows, cols, seed + 2) * T(noise);
  m.array() += T(offset);
  return m;
}

// Every (query, row) product lies in its sketch interval; returns the median interval width
// over the median |product - mean product| (how tight the sketch is).
template <class T>
double check_holds(const RowMatrix<T>& data, const RowMatrix<T>& queries) {
  detail::PcaSketch<T> sketch(data.cols());
  REQUIRE(sketch.enabled());
  // Two appends: the second batch is sketched on the first batch's basis.
  const Eigen::Index half = data.rows() / 2;
  sketch.append(data.topRows(half));
  sketch.append(data.bottomRows(data.rows() - half));
  REQUIRE(sketch.size() == data.rows());
  typename detail::PcaSketch<T>::Query q;
  std::vector<double> widths, spread;
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    sketch.encode_query(queries.row(i).data(), q);
    for (Eigen::Index r = 0; r < data.rows(); ++r) {
      long double exact = 0;
      for (Eigen::Index j = 0; j < data.cols(); ++j)
        exact += static_cast<long double>(queries(i, j)) * static_cast<long double>(data(r, j));
      const auto b = sketch.product(q, static_cast<Id>(r));
      const bool inside = b.lo <= static_cast<double>(exact) && static_cast<double>(exact) <= b.hi;
      if (!inside) {
        FAIL_CHECK("query " << i << " row " << r << ": " << static_cast<double>(exact)
                            << " outside [" << b.lo << ", " << b.hi << "]");
        return 0;
      }
      widths.push_back(b.hi - b.lo);
      spread.push_back(static_cast<double>(exact));
    }
  }
  const auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double centre = median(spread);
  for (double& v : spread) v = std::abs(v - centre);
  return median(widths) / std::max(median(spread), 1e-300);
}

}  // namespace

TEST_CASE("PcaSketch: the interval holds the exact product; tight on low-rank data",
          "[sq8][sketch]") {
  // Near a 12-dimensional subspace: the 29 sketch directions hold almost everything.
  const auto data = low_rank<float>(700, 300, 0.0, 0.01, 1);
  const auto queries = low_rank<float>(12, 300, 0.0, 0.01, 1);
  CHECK(check_holds(data, queries) < 0.05);
  // The same, far from the origin (the mean is taken out before the sketch; the rounding
  // margin grows with the products, about 3e8 here).
  CHECK(check_holds(low_rank<float>(500, 300, 1000.0, 0.01, 3),
                    low_rank<float>(8, 300, 1000.0, 0.01, 3)) < 0.1);
  CHECK(check_holds(low_rank<double>(400, 260, -3.0, 0.01, 5),
                    low_rank<double>(8, 260, -3.0, 0.01, 5)) < 0.05);
  // Queries unlike the data, and isotropic noise: still inside, only wider.
  check_holds(low_rank<float>(300, 300, 0.0, 0.01, 7),
              RowMatrix<float>(gaussian<float>(6, 300, 8) * 50.0f));
  check_holds(gaussian<float>(300, 256, 9), gaussian<float>(6, 256, 10));
}

TEST_CASE("PcaSketch: degenerate data", "[sq8][sketch]") {
  // Identical rows (no variance), a single row, and rows of zeros and huge values.
  RowMatrix<float> same = RowMatrix<float>::Constant(50, 300, 0.25f);
  check_holds(same, gaussian<float>(4, 300, 1));
  check_holds(RowMatrix<float>(gaussian<float>(1, 300, 2)), gaussian<float>(4, 300, 3));
  RowMatrix<float> mixed = RowMatrix<float>::Zero(40, 300);
  mixed.bottomRows(20) = gaussian<float>(20, 300, 4) * 1e15f;
  check_holds(mixed, RowMatrix<float>(gaussian<float>(4, 300, 5) * 1e15f));
  // Below kMinDim nothing is kept.
  detail::PcaSketch<float> small(64);
  CHECK_FALSE(small.enabled());
  small.append(gaussian<float>(10, 64, 6));
  CHECK(small.size() == 0);
  CHECK(small.memory_bytes() == 0);
}
