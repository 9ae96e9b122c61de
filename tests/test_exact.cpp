#include "catch_compat.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include "test_data.hpp"
#include "brute_force.hpp"
#include "file_util.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Small integers: every distance and product is exact in float, so ties are real ties.
template <class T>
RowMatrix<T> small_ints(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-2, 2);
  RowMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(v(rng));
  for (Eigen::Index i = 0; i < rows; ++i) m(i, 0) = (m(i, 0) == 0) ? T(1) : m(i, 0);  // nonzero
  return m;
}

template <class T, class Metric>
void expect_brute_force(const ExactIndex<T, Metric>& index, const RowMatrix<T>& data,
                        const RowMatrix<T>& queries, Eigen::Index k, int threads, bool exact_ids) {
  const auto result = index.search(queries, k, threads);
  REQUIRE(result.num_queries() == queries.rows());
  REQUIRE(result.k() == k);
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto truth = testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)),
                                                    static_cast<std::size_t>(k));
    CHECK(result.visited()(q) == data.rows());
    for (Eigen::Index j = 0; j < k; ++j) {
      CAPTURE(q, j);
      if (exact_ids) CHECK(result.ids()(q, j) == truth[static_cast<std::size_t>(j)].id);
      CHECK(static_cast<double>(result.distances()(q, j)) ==
            Approx(static_cast<double>(truth[static_cast<std::size_t>(j)].value))
                .epsilon(tol)
                .margin(tol));
    }
  }
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("exact search equals brute force", "[exact]", ExactIndex,
                           ((float, Euclidean), (float, Cosine), (float, InnerProduct),
                            (float, Manhattan), (double, Euclidean), (double, Cosine),
                            (double, InnerProduct), (double, Manhattan))) {
  using T = typename TestType::Scalar;
  const Eigen::Index dim = GENERATE(1, 7, 33);
  // Scan path (< 16 queries) and GEMM path (several query blocks of 128, split over threads).
  const auto [num_queries, threads] =
      GENERATE(table<Eigen::Index, int>({{1, 1}, {5, 2}, {16, 1}, {300, 2}}));
  const Eigen::Index k = GENERATE(1, 10);
  CAPTURE(dim, num_queries, threads, k);

  SECTION("random data: ids and distances") {
    const RowMatrix<T> data = gaussian<T>(3000, dim, 1);
    const RowMatrix<T> queries = gaussian<T>(num_queries, dim, 2);
    TestType index(dim);
    index.add(data.topRows(1000));
    index.add(data.bottomRows(2000));  // ids continue across adds
    REQUIRE(index.size() == 3000);
    // With one dimension, many points are nearly equidistant: compare distances only.
    expect_brute_force(index, data, queries, k, threads, dim > 1);
  }
  SECTION("tied distances break by the smaller id") {
    const RowMatrix<T> data = small_ints<T>(500, dim, 3);
    const RowMatrix<T> queries = small_ints<T>(num_queries, dim, 4);
    TestType index(dim);
    index.add(data);
    // Cosine divides by norms, which rounds: only integer metrics give exact ties.
    expect_brute_force(index, data, queries, k, threads,
                       !std::is_same_v<typename TestType::MetricType, Cosine>);
  }
}

TEST_CASE("borrowed rows are searched without a copy", "[exact]") {
  const RowMatrix<float> data = gaussian<float>(2000, 16, 5);
  const RowMatrix<float> queries = gaussian<float>(20, 16, 6);
  auto index = ExactIndex<float, Cosine>::borrow(data.data(), data.rows(), data.cols());
  CHECK_FALSE(index.owns_data());
  CHECK(index.data().data() == data.data());
  expect_brute_force(index, data, queries, 5, 1, true);

  const RowMatrix<float> more = gaussian<float>(10, 16, 7);
  index.add(more);  // copies the borrowed rows first
  CHECK(index.owns_data());
  RowMatrix<float> all(2010, 16);
  all << data, more;
  expect_brute_force(index, all, queries, 5, 2, true);
}

TEST_CASE("cosine reports similarities, euclidean distances", "[exact]") {
  RowMatrix<double> data(3, 2);
  data << 1, 0, 0, 2, -3, 0;
  RowMatrix<double> q(1, 2);
  q << 2, 0;
  ExactIndex<double, Cosine> cosine(2);
  cosine.add(data);
  auto r = cosine.search(q, 3);
  CHECK(r.ids()(0, 0) == 0);
  CHECK(r.distances()(0, 0) == Approx(1.0));
  CHECK(r.ids()(0, 1) == 1);
  CHECK(r.distances()(0, 1) == Approx(0.0).margin(1e-12));
  CHECK(r.distances()(0, 2) == Approx(-1.0));

  ExactIndex<double, Euclidean> l2(2);
  l2.add(data);
  r = l2.search(q, 3);
  CHECK(r.ids()(0, 0) == 0);
  CHECK(r.distances()(0, 0) == Approx(1.0));
  CHECK(r.distances()(0, 1) == Approx(std::sqrt(8.0)));
  CHECK(r.distances()(0, 2) == Approx(5.0));

  ExactIndex<double, InnerProduct> ip(2);
  ip.add(data);
  r = ip.search(q, 1);
  CHECK(r.ids()(0, 0) == 0);
  CHECK(r.distances()(0, 0) == Approx(2.0));
}

TEST_CASE("bad input throws a clear error and leaves the index as it was", "[exact][errors]") {
  ExactIndex<float, Cosine> index(4);
  RowMatrix<float> good = gaussian<float>(10, 4, 8);
  RowMatrix<float> q = gaussian<float>(2, 4, 9);

  CHECK_THROWS_AS((ExactIndex<float, Euclidean>(0)), InvalidArgument);
  CHECK_THROWS_WITH(index.search(q, 1), Catch::Contains("empty"));
  CHECK_THROWS_AS(index.search(q, 1), InvalidState);

  index.add(good);
  const RowMatrix<float> before = index.data();

  RowMatrix<float> wide = gaussian<float>(3, 5, 10);
  CHECK_THROWS_AS(index.add(wide), DimensionMismatch);
  CHECK_THROWS_WITH(index.add(wide), Catch::Contains("5 columns") && Catch::Contains("4"));
  RowMatrix<float> nan = good;
  nan(7, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(index.add(nan), InvalidData);
  RowMatrix<float> inf = good;
  inf(9, 3) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(index.add(inf), Catch::Contains("row 9"));
  RowMatrix<float> zero = good;
  zero.row(4).setZero();
  CHECK_THROWS_AS(index.add(zero), InvalidData);
  CHECK_THROWS_WITH(index.add(zero), Catch::Contains("zero vector"));

  CHECK(index.size() == 10);
  CHECK(index.data() == before);

  CHECK_THROWS_AS(index.search(q, 0), InvalidArgument);
  CHECK_THROWS_AS(index.search(q, -3), InvalidArgument);
  CHECK(index.search(q, 11).ids()(0, 10) == -1);  // k above size() pads (tested below)
  CHECK_THROWS_AS(index.search(q, 1, -1), InvalidArgument);
  CHECK_THROWS_AS(index.search(wide, 1), DimensionMismatch);
  RowMatrix<float> qnan = q;
  qnan(1, 1) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(index.search(qnan, 1), InvalidData);
  RowMatrix<float> qzero = RowMatrix<float>::Zero(1, 4);
  CHECK_THROWS_AS(index.search(qzero, 1), InvalidData);
  // Every error is a pstable::Error.
  CHECK_THROWS_AS(index.search(q, 0), Error);

  // The index still answers correctly after all the failures.
  expect_brute_force(index, good, q, 3, 1, true);
}

TEST_CASE("concurrent const searches agree", "[exact][threads]") {
  const RowMatrix<float> data = gaussian<float>(5000, 32, 11);
  const RowMatrix<float> queries = gaussian<float>(64, 32, 12);
  ExactIndex<float, Euclidean> index(32);
  index.add(data);
  const auto expected = index.search(queries, 10, 1);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { ok[t] = index.search(queries, 10, 2).ids() == expected.ids(); });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) CHECK(v == 1);
}

TEMPLATE_PRODUCT_TEST_CASE("k above the index size returns every point, then padding", "[exact]",
                           ExactIndex,
                           ((float, Euclidean), (float, Cosine), (double, InnerProduct),
                            (double, Manhattan))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  // Scan path (< 16 queries) and block path (GEMM, or tiles for Manhattan).
  const Eigen::Index num_queries = GENERATE(3, 40);
  const RowMatrix<T> data = gaussian<T>(12, 5, 21);
  const RowMatrix<T> queries = gaussian<T>(num_queries, 5, 22);
  TestType index(5);
  index.add(data);
  const auto result = index.search(queries, 20, 2);
  REQUIRE(result.k() == 20);
  // The worst value of the metric: +inf for distances, -inf for similarities.
  const T worst = Metric::is_similarity ? -std::numeric_limits<T>::infinity()
                                        : std::numeric_limits<T>::infinity();
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    const auto truth = testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)), 12);
    CHECK(result.visited()(q) == 12);
    for (Eigen::Index j = 0; j < 12; ++j) {
      CAPTURE(q, j);
      CHECK(result.ids()(q, j) == truth[static_cast<std::size_t>(j)].id);
      CHECK(static_cast<double>(result.distances()(q, j)) ==
            Approx(static_cast<double>(truth[static_cast<std::size_t>(j)].value)).epsilon(1e-4));
    }
    for (Eigen::Index j = 12; j < 20; ++j) {
      CHECK(result.ids()(q, j) == -1);
      CHECK(result.distances()(q, j) == worst);
    }
  }
}

TEMPLATE_PRODUCT_TEST_CASE("filtered exact search equals brute force over the allowed points",
                           "[exact]", ExactIndex,
                           ((float, Euclidean), (float, Cosine), (double, InnerProduct),
                            (double, Manhattan))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  // Scan path (< 16 queries) and block path (GEMM, or tiles for Manhattan).
  const Eigen::Index num_queries = GENERATE(3, 40);
  const int threads = GENERATE(1, 2);
  const RowMatrix<T> data = gaussian<T>(1500, 9, 41);
  const RowMatrix<T> queries = gaussian<T>(num_queries, 9, 42);
  TestType index(9);
  index.add(data);
  std::atomic<int> calls{0};
  const auto keep = [&](Id id) {
    ++calls;
    return id % 3 != 0;
  };
  const auto result = index.search_filtered(queries, 10, keep, threads);
  CHECK(calls == 1500);  // once per point per call, whatever the number of queries
  const auto unfiltered = index.search(queries, 10, threads);
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    auto truth = testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)), 1500);
    truth.erase(std::remove_if(truth.begin(), truth.end(),
                               [](const testing::Hit& h) { return h.id % 3 == 0; }),
                truth.end());
    CHECK(result.visited()(q) == 1000);  // rejected points are not visited
    CHECK(unfiltered.visited()(q) == 1500);
    for (Eigen::Index j = 0; j < 10; ++j) {
      CAPTURE(q, j);
      CHECK(result.ids()(q, j) == truth[static_cast<std::size_t>(j)].id);
      CHECK(static_cast<double>(result.distances()(q, j)) ==
            Approx(static_cast<double>(truth[static_cast<std::size_t>(j)].value)).epsilon(1e-4));
    }
  }
  // Fewer allowed points than k: padded, as E2LSHIndex::search_filtered does.
  const auto few = index.search_filtered(queries, 4, [](Id id) { return id == 7 || id == 900; });
  const T worst = Metric::is_similarity ? -std::numeric_limits<T>::infinity()
                                        : std::numeric_limits<T>::infinity();
  for (Eigen::Index q = 0; q < num_queries; ++q) {
    CHECK(std::min(few.ids()(q, 0), few.ids()(q, 1)) == 7);
    CHECK(std::max(few.ids()(q, 0), few.ids()(q, 1)) == 900);
    CHECK(few.ids()(q, 2) == -1);
    CHECK(few.distances()(q, 3) == worst);
    CHECK(few.visited()(q) == 2);
  }
  const auto none = index.search_filtered(queries, 3, [](Id) { return false; });
  CHECK((none.ids().array() == -1).all());
  CHECK((none.distances().array() == worst).all());
  CHECK(none.visited().sum() == 0);
  // Bad arguments are refused before the predicate is asked anything.
  calls = 0;
  CHECK_THROWS_AS(index.search_filtered(queries, 0, keep), InvalidArgument);
  CHECK_THROWS_AS(index.search_filtered(RowMatrix<T>::Zero(2, 4), 3, keep), InvalidArgument);
  CHECK(calls == 0);
}

namespace {

// Each query's k best ids among the rows `live` allows (brute force), padded with -1.
template <class Metric, class T, class Live>
std::vector<Id> best_live(const RowMatrix<T>& data, const RowVector<T>& q, std::size_t k,
                          Live&& live) {
  std::vector<Id> out;
  for (const auto& h :
       testing::brute_force<Metric>(data, q, static_cast<std::size_t>(data.rows()))) {
    if (out.size() < k && live(h.id)) out.push_back(h.id);
  }
  out.resize(k, -1);
  return out;
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("removed points are never returned and compact keeps the other ids",
                           "[exact][remove]", ExactIndex,
                           ((float, Euclidean), (double, Cosine), (float, InnerProduct),
                            (float, Manhattan))) {
  using T = typename TestType::Scalar;
  using Metric = typename TestType::MetricType;
  const RowMatrix<T> data = gaussian<T>(400, 7, 51);
  const RowMatrix<T> queries = gaussian<T>(20, 7, 52);
  TestType index(7);
  index.add(data.topRows(250));
  index.add(data.bottomRows(150));
  for (Id id = 0; id < 400; id += 3) index.remove(id);
  CHECK(index.size() == 400 - 134);
  CHECK(index.num_removed() == 134);
  CHECK(index.next_id() == 400);
  CHECK_FALSE(index.contains(3));
  CHECK(index.contains(4));
  CHECK_FALSE(index.contains(400));
  CHECK_FALSE(index.contains(-1));
  CHECK_THROWS_AS(index.remove(3), InvalidArgument);    // already removed
  CHECK_THROWS_AS(index.remove(400), InvalidArgument);  // never added
  CHECK_THROWS_AS(index.remove(-1), InvalidArgument);
  CHECK(index.size() == 266);  // the failed removes changed nothing

  const auto live = [](Id id) { return id % 3 != 0; };
  const auto expect = [&](const TestType& idx, const char* what) {
    for (const Eigen::Index nq : {Eigen::Index{3}, Eigen::Index{20}}) {  // scan and block paths
      for (const int threads : {1, 2}) {
        const auto result = idx.search(queries.topRows(nq), 10, threads);
        const auto filtered =
            idx.search_filtered(queries.topRows(nq), 10, [](Id id) { return id % 2 == 0; });
        for (Eigen::Index q = 0; q < nq; ++q) {
          CAPTURE(what, nq, threads, q);
          const RowVector<T> query = queries.row(q);
          const auto truth = best_live<Metric>(data, query, 10, live);
          const auto even =
              best_live<Metric>(data, query, 10, [&](Id id) { return live(id) && id % 2 == 0; });
          for (Eigen::Index j = 0; j < 10; ++j) {
            CHECK(result.ids()(q, j) == truth[static_cast<std::size_t>(j)]);
            CHECK(filtered.ids()(q, j) == even[static_cast<std::size_t>(j)]);
          }
          CHECK(result.visited()(q) == 266);
          CHECK(filtered.visited()(q) == 133);  // live even ids
        }
      }
    }
    // Range search: the live points in range, nothing removed.
    const T radius = Metric::is_similarity ? T(0.3) : T(std::is_same_v<Metric, Manhattan> ? 6 : 3);
    const auto range = idx.search_radius(queries, radius);
    Eigen::Index expected_total = 0;
    for (Eigen::Index q = 0; q < queries.rows(); ++q) {
      for (const auto& h : testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)), 400)) {
        const bool in = Metric::is_similarity ? h.value >= radius : h.value <= radius;
        expected_total += (in && live(h.id)) ? 1 : 0;
      }
    }
    CHECK(range.total() == expected_total);
    for (Eigen::Index i = 0; i < range.total(); ++i) CHECK(live(range.ids()(i)));
  };
  expect(index, "before compact");

  // Files keep removed points and, after compact, the id map.
  testing::TempDir dir;
  save_index(index, dir.file("removed.pst"));
  expect(load_index<TestType>(dir.file("removed.pst")), "loaded");
  expect(load_index<TestType>(dir.file("removed.pst"), LoadMode::map), "mapped");

  const std::size_t before = index.memory_bytes();
  index.compact();
  CHECK(index.num_removed() == 0);
  CHECK(index.size() == 266);
  CHECK(index.data().rows() == 266);
  CHECK(index.memory_bytes() < before);
  CHECK(index.contains(4));
  CHECK_FALSE(index.contains(3));
  CHECK_THROWS_AS(index.remove(3), InvalidArgument);
  expect(index, "after compact");
  save_index(index, dir.file("compacted.pst"));
  const auto loaded = load_index<TestType>(dir.file("compacted.pst"));
  expect(loaded, "compacted, loaded");
  CHECK(loaded.next_id() == 400);

  // Adds continue from next_id; a removed point's twin gets a new id.
  index.add(data.topRows(2));
  CHECK(index.next_id() == 402);
  CHECK(index.contains(400));
  CHECK(index.contains(401));
  if (!std::is_same_v<Metric, InnerProduct>) {  // a point is its own best match, but not for ip
    CHECK(index.search(data.topRows(1), 1).ids()(0, 0) == 400);
  }
  index.remove(400);
  index.compact();
  CHECK(index.size() == 267);
}
