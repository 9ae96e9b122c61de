// Values whose squares or products overflow, or whose squared norm underflows under cosine
// (issue 13, item 2): rejected with InvalidData naming the row, and just inside the accepted
// range the answer equals brute force and does not depend on the batch size (a query alone
// takes the SIMD scan, 16 or more take ExactIndex's GEMM path).

#include "catch_compat.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "brute_force.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "test_data.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// n rows of dim values, row i = gaussian row scaled to norm `norm` * (1 - i / (4n)).
template <class T>
RowMatrix<T> scaled_rows(Eigen::Index n, Eigen::Index dim, T norm, unsigned seed) {
  RowMatrix<T> rows = gaussian<T>(n, dim, seed);
  for (Eigen::Index i = 0; i < n; ++i) {
    const long double f = static_cast<long double>(norm) * (1.0L - i / (4.0L * n));
    const long double len =
        std::sqrt(static_cast<long double>(rows.row(i).template cast<long double>().squaredNorm()));
    for (Eigen::Index j = 0; j < dim; ++j) rows(i, j) = static_cast<T>(rows(i, j) / len * f);
  }
  return rows;
}

template <class T, class Metric>
void expect_batch_independent_brute_force(T norm) {
  constexpr Eigen::Index n = 200, dim = 8, k = 5;
  const RowMatrix<T> data = scaled_rows<T>(n, dim, norm, 41);
  // 20 queries: some are data rows (distance 0 / similarity 1 to themselves), others new.
  RowMatrix<T> queries = scaled_rows<T>(20, dim, norm, 42);
  for (Eigen::Index i = 0; i < 10; ++i) queries.row(i) = data.row(3 * i);
  ExactIndex<T, Metric> index(dim);
  index.add(data);
  const auto batch = index.search(queries, k, 2);  // GEMM path
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto single = index.search(queries.row(q), k);  // SIMD scan
    const RowVector<T> qv = queries.row(q);
    const auto truth = testing::brute_force<Metric>(data, qv, static_cast<std::size_t>(k));
    CAPTURE(q);
    CHECK(single.ids().row(0) == batch.ids().row(q));
    for (Eigen::Index j = 0; j < k; ++j) {
      CAPTURE(j);
      REQUIRE(std::isfinite(single.distances()(0, j)));
      CHECK(single.distances()(0, j) == batch.distances()(q, j));
      CHECK(single.ids()(0, j) == truth[static_cast<std::size_t>(j)].id);
      const double want = static_cast<double>(truth[static_cast<std::size_t>(j)].value);
      CHECK(static_cast<double>(single.distances()(0, j)) ==
            Approx(want)
                .epsilon(std::is_same_v<T, float> ? 1e-4 : 1e-10)
                .margin(std::abs(want) * 1e-4 + 1e-300));
    }
    if (q < 10) CHECK(single.ids()(0, 0) == 3 * q);  // a data row finds itself first
  }
}

template <class T, class Index>
void expect_rejected(Index& index, const RowMatrix<T>& rows, const std::string& row_name) {
  const auto size = index.size();
  try {
    index.add(rows);
    FAIL("add accepted the rows");
  } catch (const InvalidData& e) {
    CHECK_THAT(e.what(), Catch::Contains(row_name));
  }
  CHECK(index.size() == size);
  if (size > 0) {
    try {
      index.search(rows, 1);
      FAIL("search accepted the rows");
    } catch (const InvalidData& e) {
      CHECK_THAT(e.what(), Catch::Contains("queries " + row_name.substr(5)));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("rows just inside the magnitude bound give brute force in any batch size",
                   "[magnitude]", float, double) {
  using T = TestType;
  const T high = detail::max_row_norm<T>() * T(0.999);
  expect_batch_independent_brute_force<T, Euclidean>(high);
  expect_batch_independent_brute_force<T, InnerProduct>(high);
  expect_batch_independent_brute_force<T, Cosine>(high);
  expect_batch_independent_brute_force<T, Cosine>(detail::min_cosine_norm<T>() * T(1.001) /
                                                  T(0.75));
}

TEMPLATE_TEST_CASE("rows past the magnitude bound are rejected naming the row", "[magnitude]",
                   float, double) {
  using T = TestType;
  const RowMatrix<T> good = gaussian<T>(20, 8, 51);
  RowMatrix<T> bad = good;
  // Issue 13's float row (2e19,)*8, generalised: the norm just above the bound.
  bad.row(7).setConstant(detail::max_row_norm<T>() / std::sqrt(T(8)) * T(1.01));
  {
    ExactIndex<T, Euclidean> e(8);
    expect_rejected<T>(e, bad, "data row 7");
    e.add(good);
    expect_rejected<T>(e, bad, "data row 7");
  }
  {
    ExactIndex<T, InnerProduct> e(8);
    e.add(good);
    expect_rejected<T>(e, bad, "data row 7");
  }
  {
    ExactIndex<T, Cosine> e(8);
    e.add(good);
    expect_rejected<T>(e, bad, "data row 7");
    // Under cosine a tiny row's squared norm underflows: rejected, not called a zero vector.
    RowMatrix<T> tiny = good;
    tiny.row(4) *= detail::min_cosine_norm<T>() / tiny.row(4).norm() * T(0.5);
    expect_rejected<T>(e, tiny, "data row 4");
  }
  {
    E2LSHIndex<T, Euclidean> l(8);
    l.add(good);
    expect_rejected<T>(l, bad, "data row 7");
  }
  // Tiny rows stay valid under Euclidean and inner product (no norm is taken), as does the zero
  // row, and the largest finite values are rejected, not turned into inf distances.
  ExactIndex<T, Euclidean> e(8);
  RowMatrix<T> small = good * std::numeric_limits<T>::min();
  CHECK_NOTHROW(e.add(small));
  RowMatrix<T> huge = good;
  huge(0, 0) = std::numeric_limits<T>::max();
  expect_rejected<T>(e, huge, "data row 0");
}

TEST_CASE(
    "issue 13's float rows: (2e19,)*8 rejected, 1e25-scaled and 1e-25-scaled cosine rows "
    "rejected with the reason",
    "[magnitude]") {
  RowMatrix<float> row = RowMatrix<float>::Constant(1, 8, 2e19f);
  ExactIndex<float, Euclidean> e(8);
  CHECK_THROWS_WITH(e.add(row), Catch::Contains("data row 0 has norm") && Catch::Contains("above"));
  ExactIndex<float, Cosine> c(8);
  const RowMatrix<float> g = gaussian<float>(1, 8, 3);
  CHECK_THROWS_WITH(c.add(RowMatrix<float>(g * 1e25f)), Catch::Contains("above"));
  CHECK_THROWS_WITH(c.add(RowMatrix<float>(g * 1e-25f)), Catch::Contains("below"));
  // The same values are fine in double, and equal to brute force.
  ExactIndex<double, Cosine> d(8);
  const RowMatrix<double> gd = g.cast<double>();
  d.add(RowMatrix<double>(gd * 1e25));
  d.add(RowMatrix<double>(gd * 1e-25));
  const auto r = d.search(RowMatrix<double>(gd * 1e-25), 2);
  CHECK(r.distances()(0, 0) == Approx(1.0).epsilon(1e-12));
  CHECK(r.distances()(0, 1) == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("safe_row_norm matches a long double norm from subnormals to the largest values",
          "[magnitude]") {
  for (double scale : {4.9e-324, 1e-310, 1e-160, 1.0, 1e150, 1e300, 1.7e308}) {
    RowMatrix<double> r(1, 3);
    r << scale, scale / 2, 0;
    long double want = 0;
    for (int j = 0; j < 3; ++j) want += static_cast<long double>(r(0, j)) * r(0, j);
    want = std::sqrt(want);
    const double got = detail::safe_row_norm<double>(r, 0);
    CAPTURE(scale);
    if (want > std::numeric_limits<double>::max()) {
      CHECK(std::isinf(got));
    } else {
      // Relative error of a few ulps, or a few subnormal steps (1e-323) at the bottom.
      CHECK(std::abs(static_cast<long double>(got) - want) <= want * 1e-15L + 1e-323L);
    }
  }
}
