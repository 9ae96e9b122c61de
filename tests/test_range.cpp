#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "brute_force.hpp"
#include "test_data.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/eval/range_recall.hpp"
#include "pstable/index/exact.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Small integers: squared distances, L1 distances and inner products are exact in float, so a
// radius equal to a distance is a real boundary case.
template <class T>
RowMatrix<T> small_ints(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-2, 2);
  RowMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(v(rng));
  for (Eigen::Index i = 0; i < rows; ++i) m(i, 0) = (m(i, 0) == 0) ? T(1) : m(i, 0);
  return m;
}

// Every hit of brute force within `radius` (similarity >= radius for cosine and inner product),
// best first, ties by id.
template <class Metric, class T>
std::vector<testing::Hit> in_range(const RowMatrix<T>& data, const RowVector<T>& q, T radius) {
  auto hits = testing::brute_force<Metric>(data, q, static_cast<std::size_t>(data.rows()));
  std::vector<testing::Hit> out;
  for (const auto& h : hits) {
    if (Metric::is_similarity ? h.value >= radius : h.value <= radius) out.push_back(h);
  }
  return out;
}

// Result of query q as (id, distance) pairs.
template <class T>
std::vector<std::pair<Id, T>> slice(const RangeNeighbors<T>& r, Eigen::Index q) {
  std::vector<std::pair<Id, T>> out;
  for (auto i = r.offsets()(q); i < r.offsets()(q + 1); ++i) {
    out.emplace_back(r.ids()(i), r.distances()(i));
  }
  return out;
}

// The radius that puts about `fraction` of the points in range of a typical query.
template <class Metric, class T>
T typical_radius(const RowMatrix<T>& data, const RowMatrix<T>& queries, double fraction) {
  std::vector<long double> values;
  for (Eigen::Index q = 0; q < std::min<Eigen::Index>(queries.rows(), 10); ++q) {
    for (const auto& h : testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)),
                                                      static_cast<std::size_t>(data.rows()))) {
      values.push_back(h.value);
    }
  }
  std::sort(values.begin(), values.end());
  if (Metric::is_similarity) std::reverse(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(fraction * static_cast<double>(values.size()));
  // Halfway between two values, not on one.
  return static_cast<T>((values[at] + values[at + 1]) / 2);
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("exact range search equals brute force", "[exact][range]", ExactIndex,
                           ((float, Euclidean), (float, Cosine), (float, InnerProduct),
                            (float, Manhattan), (double, Euclidean), (double, Cosine),
                            (double, InnerProduct), (double, Manhattan))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  // Gaussian data: no ties, no point within rounding of the radius (checked below).
  const RowMatrix<T> data = gaussian<T>(500, 9, 3);
  const Eigen::Index num_queries = GENERATE(1, 40);
  const RowMatrix<T> queries = gaussian<T>(num_queries, 9, 4);
  const double fraction = GENERATE(0.0, 0.02, 0.3);
  const T radius = typical_radius<Metric>(data, queries, fraction);
  TestType index(9);
  index.add(data);
  const auto result = index.search_radius(queries, radius, GENERATE(1, 2));
  REQUIRE(result.num_queries() == num_queries);
  REQUIRE(result.offsets()(0) == 0);
  REQUIRE(result.offsets()(num_queries) == result.total());
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    CAPTURE(q, radius);
    const auto truth = in_range<Metric>(data, RowVector<T>(queries.row(q)), radius);
    const auto got = slice(result, q);
    CHECK(result.visited()(q) == data.rows());
    CHECK(result.probed()(q) == 0);
    REQUIRE(got.size() == truth.size());
    for (std::size_t j = 0; j < got.size(); ++j) {
      CHECK(got[j].first == truth[j].id);
      CHECK(static_cast<double>(got[j].second) ==
            Approx(static_cast<double>(truth[j].value)).epsilon(tol).margin(tol));
    }
  }
  // Filtered: the same points without the rejected ids, which are not compared at all.
  const auto filtered =
      index.search_radius_filtered(queries, radius, [](Id id) { return id % 3 != 0; });
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    CAPTURE(q, radius);
    auto truth = in_range<Metric>(data, RowVector<T>(queries.row(q)), radius);
    truth.erase(std::remove_if(truth.begin(), truth.end(),
                               [](const testing::Hit& h) { return h.id % 3 == 0; }),
                truth.end());
    const auto got = slice(filtered, q);
    CHECK(filtered.visited()(q) == data.rows() - (data.rows() + 2) / 3);
    REQUIRE(got.size() == truth.size());
    for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j].first == truth[j].id);
  }
  // No brute-force value lies within rounding of the radius: the set comparison is exact.
  long double gap = std::numeric_limits<long double>::infinity();
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    for (const auto& h : testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)),
                                                      static_cast<std::size_t>(data.rows()))) {
      gap = std::min(gap, std::abs(h.value - static_cast<long double>(radius)));
    }
  }
  CHECK(gap > tol * std::max<long double>(1, std::abs(radius)));
}

TEMPLATE_PRODUCT_TEST_CASE("exact range search includes points exactly at the radius",
                           "[exact][range]", ExactIndex,
                           ((float, Euclidean), (float, InnerProduct), (float, Manhattan),
                            (double, Euclidean), (double, InnerProduct), (double, Manhattan))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  const RowMatrix<T> data = small_ints<T>(300, 6, 7);  // many exact ties
  const RowMatrix<T> queries = small_ints<T>(20, 6, 8);
  TestType index(6);
  index.add(data);
  const T radius = std::is_same_v<Metric, InnerProduct> ? T(3) : T(4);  // a value data reaches
  const auto result = index.search_radius(queries, radius, 2);
  Eigen::Index at_boundary = 0;
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto truth = in_range<Metric>(data, RowVector<T>(queries.row(q)), radius);
    const auto got = slice(result, q);
    REQUIRE(got.size() == truth.size());
    for (std::size_t j = 0; j < got.size(); ++j) {
      CHECK(got[j].first == truth[j].id);                      // ties by the smaller id
      CHECK(got[j].second == static_cast<T>(truth[j].value));  // correctly rounded
      at_boundary += truth[j].value == radius;
    }
  }
  CHECK(at_boundary > 0);
}

TEMPLATE_PRODUCT_TEST_CASE("E2LSH range results are a subset of brute force, recall high",
                           "[e2lsh][range]", E2LSHIndex,
                           ((float, Euclidean), (float, Cosine), (float, Manhattan),
                            (double, Euclidean))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  // Few dimensions: the 1% radius is well below the typical distance (in many dimensions all
  // distances concentrate and any w that finds the near points finds every point).
  const RowMatrix<T> data = gaussian<T>(2000, 5, 21);
  const RowMatrix<T> queries = gaussian<T>(50, 5, 22);
  // About 1% of the points in range; bucket width a few times the radius (docs/e2lsh.md).
  const T radius = typical_radius<Metric>(data, queries, 0.01);
  E2LSHParams p;
  p.num_tables = 20;
  p.num_hashes = 8;  // a point at the radius: found with probability 1 - (1 - 0.8^8)^20 = 0.975
  // Cosine hashes unit vectors, whose distance is sqrt(2 - 2 cos).
  const double r =
      std::is_same_v<Metric, Cosine> ? std::sqrt(2.0 - 2.0 * double(radius)) : double(radius);
  p.bucket_width = 4 * r;
  if (std::is_same_v<Metric, Manhattan>) {
    // The Cauchy family collides less at the same width: p(r) = 0.755 at w = 8 r, found with
    // probability 1 - (1 - 0.755^6)^20 = 0.98.
    p.bucket_width = 8 * r;
    p.num_hashes = 6;
  }
  TestType index(5, p);
  index.add(data);
  const auto result = index.search_radius(queries, radius, GENERATE(1, 2));
  std::size_t truth_total = 0;
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    CAPTURE(q);
    const auto truth = in_range<Metric>(data, RowVector<T>(queries.row(q)), radius);
    truth_total += truth.size();
    const auto got = slice(result, q);
    CHECK(got.size() <= truth.size());
    CHECK(result.visited()(q) >= static_cast<std::int64_t>(got.size()));
    std::size_t j = 0;
    for (const auto& [id, distance] : got) {  // the truth, in its order, with gaps
      while (j < truth.size() && truth[j].id != id) ++j;
      REQUIRE(j < truth.size());
      CHECK(static_cast<double>(distance) ==
            Approx(static_cast<double>(truth[j].value)).epsilon(1e-5).margin(1e-5));
    }
  }
  REQUIRE(truth_total > 0);
  const double recall = static_cast<double>(result.total()) / static_cast<double>(truth_total);
  CAPTURE(recall, result.mean_visited());
  CHECK(recall >= 0.9);
  // range_recall against the exact search says the same (the results are a subset of it).
  ExactIndex<T, Metric> exact(5);
  exact.add(data);
  CHECK(range_recall(result, exact.search_radius(queries, radius)) == Approx(recall));
  CHECK(result.mean_visited() < 0.5 * static_cast<double>(data.rows()));  // not a full scan
}

TEST_CASE("range search on empty and emptied indexes returns no results", "[range]") {
  const RowMatrix<float> queries = gaussian<float>(3, 4, 1);
  const ExactIndex<float, Euclidean> exact(4);
  const auto a = exact.search_radius(queries, 10.0f);
  CHECK(a.num_queries() == 3);
  CHECK(a.total() == 0);
  CHECK(a.offsets() == CountVector::Zero(4));
  E2LSHIndex<float, Euclidean> lsh(4);
  CHECK(lsh.search_radius(queries, 10.0f).total() == 0);
  lsh.add(gaussian<float>(5, 4, 2));
  for (Id id = 0; id < 5; ++id) lsh.remove(id);
  const auto b = lsh.search_radius(queries, 100.0f, 2);
  CHECK(b.total() == 0);
  CHECK(b.offsets() == CountVector::Zero(4));
  // No queries: one offset.
  const auto c = exact.search_radius(RowMatrix<float>(0, 4), 1.0f);
  CHECK(c.num_queries() == 0);
  CHECK(c.offsets().size() == 1);
}

TEST_CASE("range search rejects bad arguments", "[range][errors]") {
  ExactIndex<float, Euclidean> exact(4);
  ExactIndex<float, Cosine> cosine(4);
  E2LSHIndex<float, Euclidean> lsh(4);
  const RowMatrix<float> data = gaussian<float>(20, 4, 1);
  exact.add(data);
  cosine.add(data);
  lsh.add(data);
  const RowMatrix<float> q = gaussian<float>(2, 4, 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(exact.search_radius(q, -1.0f), InvalidArgument);
  CHECK_THROWS_WITH(exact.search_radius(q, -1.0f), Catch::Contains("radius must be >= 0"));
  CHECK_THROWS_AS(exact.search_radius(q, nan), InvalidArgument);
  CHECK_THROWS_AS(lsh.search_radius(q, -0.5f), InvalidArgument);
  CHECK_THROWS_AS(lsh.search_radius(q, nan), InvalidArgument);
  CHECK_THROWS_AS(cosine.search_radius(q, nan), InvalidArgument);
  CHECK_THROWS_AS(exact.search_radius(q, 1.0f, -1), InvalidArgument);
  CHECK_THROWS_AS(lsh.search_radius(q, 1.0f, -1), InvalidArgument);
  CHECK_THROWS_AS(exact.search_radius(gaussian<float>(2, 5, 2), 1.0f), DimensionMismatch);
  CHECK_THROWS_AS(lsh.search_radius(gaussian<float>(2, 5, 2), 1.0f), DimensionMismatch);
  RowMatrix<float> bad = q;
  bad(1, 2) = nan;
  CHECK_THROWS_AS(exact.search_radius(bad, 1.0f), InvalidData);
  CHECK_THROWS_AS(lsh.search_radius(bad, 1.0f), InvalidData);
  CHECK_THROWS_AS(cosine.search_radius(RowMatrix<float>::Zero(1, 4), 0.5f), InvalidData);
  // A similarity threshold may be negative; an infinite radius takes everything.
  CHECK(cosine.search_radius(q, -1.0f).total() == 2 * 20);
  CHECK(exact.search_radius(q, std::numeric_limits<float>::infinity()).total() == 2 * 20);
  CHECK(exact.search_radius(q, 0.0f).total() == 0);
}

TEST_CASE("range_recall counts the true pairs returned, over all queries", "[range][eval]") {
  // Points 0, 1, 2, 10 on a line; queries at 0 and 10; radius 1.5: truth {0, 1} and {3}.
  RowMatrix<double> data(4, 1);
  data << 0, 1, 2, 10;
  RowMatrix<double> queries(3, 1);
  queries << 0, 10, 100;  // the third has nothing in range
  ExactIndex<double, Euclidean> index(1);
  index.add(data);
  const auto truth = index.search_radius(queries, 1.5);
  REQUIRE(truth.total() == 3);
  CHECK(range_recall(truth, truth) == 1.0);
  const auto without_1 = index.search_radius_filtered(queries, 1.5, [](Id id) { return id != 1; });
  CHECK(range_recall(without_1, truth) == Approx(2.0 / 3.0));
  const auto none = index.search_radius_filtered(queries, 1.5, [](Id) { return false; });
  CHECK(range_recall(none, truth) == 0.0);
  CHECK(range_recall(none, none) == 1.0);  // nothing to find
  CHECK_THROWS_AS(range_recall(index.search_radius(queries.topRows(2), 1.5), truth),
                  InvalidArgument);
}
