#include "catch_compat.hpp"

#include <limits>
#include <random>

#include "brute_force.hpp"
#include "pstable/eval/average_precision.hpp"
#include "pstable/eval/evaluation.hpp"
#include "pstable/eval/ground_truth.hpp"
#include "pstable/eval/per_class.hpp"
#include "pstable/eval/precision.hpp"
#include "pstable/eval/recall.hpp"
#include "pstable/eval/statistics.hpp"
#include "pstable/index/e2lsh.hpp"
#include "test_data.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Builds a result from hand-written rows; ids -1 are padding.
Neighbors<double> make_result(const std::vector<std::vector<Id>>& ids,
                              const std::vector<std::vector<double>>& values,
                              const std::vector<std::int64_t>& visited = {}) {
  const auto rows = static_cast<Eigen::Index>(ids.size());
  const auto k = static_cast<Eigen::Index>(ids.front().size());
  Neighbors<double> n(rows, k);
  for (Eigen::Index q = 0; q < rows; ++q) {
    for (Eigen::Index j = 0; j < k; ++j) {
      n.ids()(q, j) = ids[q][j];
      n.distances()(q, j) = values[q][j];
    }
    if (!visited.empty()) n.visited()(q) = visited[q];
  }
  return n;
}

const double kInf = std::numeric_limits<double>::infinity();

// Items 0..5: classes 0, 0, 1, 1, distractor, 0.
const std::vector<Label> kBase = {0, 0, 1, 1, kUnlabelled, 0};
const std::vector<Label> kQueries = {0, 1};

// Query 0 (class 0) gets 0, 2, 5: relevant, not, relevant.
// Query 1 (class 1) gets 4 (a distractor), 3 (relevant) and a padded slot.
Neighbors<double> sample() {
  return make_result({{0, 2, 5}, {4, 3, -1}}, {{1, 2, 4}, {1, 3, kInf}}, {6, 4});
}

}  // namespace

TEST_CASE("precision@k counts same-label results over k", "[eval]") {
  const auto p = precision_per_query(sample(), kQueries, kBase, 3);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == Approx(2.0 / 3));
  CHECK(p[1] == Approx(1.0 / 3));  // distractor and padding are never relevant
  CHECK(precision_at_k(sample(), kQueries, kBase, 3) == Approx(0.5));
  // A shorter cut-off uses only the first results.
  const auto p1 = precision_per_query(sample(), kQueries, kBase, 1);
  CHECK(p1[0] == Approx(1.0));
  CHECK(p1[1] == Approx(0.0));
}

TEST_CASE("AP@k divides by min(k, relevant items in the database)", "[eval]") {
  const auto ap = average_precision_per_query(sample(), kQueries, kBase, 3);
  // Query 0: R = 3 (items 0, 1, 5); hits at ranks 1 and 3: (1/1 + 2/3) / 3.
  CHECK(ap[0] == Approx(5.0 / 9));
  // Query 1: R = 2 (items 2, 3); one hit at rank 2: (1/2) / 2.
  CHECK(ap[1] == Approx(0.25));
  CHECK(mean_average_precision(sample(), kQueries, kBase, 3) == Approx(29.0 / 72));

  // Every relevant item first: AP = 1 even though k > R.
  const auto perfect = make_result({{2, 3, 0}}, {{1, 2, 3}});
  CHECK(average_precision_per_query(perfect, {1}, kBase, 3)[0] == Approx(1.0));
  // The same items in the opposite order score less: (1/2 + 2/3) / 2.
  const auto late = make_result({{0, 2, 3}}, {{1, 2, 3}});
  CHECK(average_precision_per_query(late, {1}, kBase, 3)[0] == Approx(7.0 / 12));
  // A class with no item in the database scores 0.
  CHECK(average_precision_per_query(perfect, {7}, kBase, 3)[0] == 0.0);
}

TEST_CASE("per-class means group queries by label", "[eval]") {
  const auto scores = per_class_mean({1.0, 0.5, 0.0, 0.25}, {3, 1, 3, 1});
  REQUIRE(scores.size() == 2);
  CHECK(scores[0].label == 1);
  CHECK(scores[0].num_queries == 2);
  CHECK(scores[0].mean == Approx(0.375));
  CHECK(scores[1].label == 3);
  CHECK(scores[1].mean == Approx(0.5));
  CHECK(per_class_mean({}, {}).empty());
  CHECK_THROWS_AS(per_class_mean({1.0}, {}), DimensionMismatch);
}

TEST_CASE("recall@k counts results within the tolerance of the true k-th distance", "[eval]") {
  const auto truth = make_result({{0, 1, 2}, {0, 1, 2}}, {{1, 2, 3}, {1, 2, 3}});
  SECTION("distances: d <= d_k (1 + eps)") {
    // 3.0029 <= 3 * 1.001 counts (a tie with a different id is not a miss); 3.01 does not.
    const auto result = make_result({{0, 5, 7}, {0, 1, -1}}, {{1, 2.5, 3.0029}, {1, 3.01, kInf}});
    const auto r = recall_per_query<Euclidean>(result, truth, 3);
    CHECK(r[0] == Approx(1.0));
    CHECK(r[1] == Approx(1.0 / 3));  // 3.01 is too far, padding never counts
    CHECK(recall_at_k<Euclidean>(result, truth, 3) == Approx(2.0 / 3));
    CHECK(recall_per_query<Euclidean>(result, truth, 3, 0.01)[1] == Approx(2.0 / 3));
    CHECK(recall_at_k<Euclidean>(truth, truth, 2) == Approx(1.0));
  }
  SECTION("similarities: s >= s_k - eps |s_k|") {
    const auto sim_truth = make_result({{0, 1, 2}, {0, 1, 2}}, {{0.9, 0.8, 0.5}, {0.9, 0.0, -0.5}});
    const auto result =
        make_result({{0, 4, 5}, {3, 4, 5}}, {{0.9, 0.4996, 0.4990}, {0.1, -0.5004, -0.5006}});
    const auto r = recall_per_query<Cosine>(result, sim_truth, 3);
    CHECK(r[0] == Approx(2.0 / 3));  // bound 0.4995
    CHECK(r[1] == Approx(2.0 / 3));  // bound -0.5005 for a negative k-th similarity
  }
  SECTION("bad input") {
    CHECK_THROWS_AS(recall_at_k<Euclidean>(truth, truth, 4), InvalidArgument);
    CHECK_THROWS_AS(recall_at_k<Euclidean>(truth, truth, 0), InvalidArgument);
    CHECK_THROWS_AS(recall_at_k<Euclidean>(truth, truth, 2, -1.0), InvalidArgument);
    const auto one = make_result({{0, 1, 2}}, {{1, 2, 3}});
    CHECK_THROWS_AS(recall_at_k<Euclidean>(one, truth, 3), DimensionMismatch);
  }
}

TEST_CASE("statistics: mean returned value, visited, queries per second", "[eval]") {
  // Padding is left out of the mean: (1 + 2 + 4 + 1 + 3) / 5.
  CHECK(mean_returned_value(sample(), 3) == Approx(11.0 / 5));
  CHECK(mean_returned_value(sample(), 1) == Approx(1.0));
  CHECK(visited_fraction(sample(), 6) == Approx(5.0 / 6));
  CHECK(queries_per_second(100, 0.5) == Approx(200.0));
  CHECK_THROWS_AS(queries_per_second(100, 0.0), InvalidArgument);
  CHECK_THROWS_AS(visited_fraction(sample(), 0), InvalidArgument);
}

TEST_CASE("evaluate gathers every measure", "[eval]") {
  const auto e = evaluate<Euclidean>(sample(), sample(), kQueries, kBase, 3, 0.01);
  CHECK(e.k == 3);
  CHECK(e.precision == Approx(0.5));
  CHECK(e.average_precision == Approx(29.0 / 72));
  CHECK(e.recall == Approx(5.0 / 6));  // the padded slot of query 1 is a miss even against itself
  CHECK(e.mean_value == Approx(11.0 / 5));
  CHECK(e.mean_visited == Approx(5.0));
  CHECK(e.visited_fraction == Approx(5.0 / 6));
  CHECK(e.queries_per_second == Approx(200.0));
  REQUIRE(e.precision_per_class.size() == 2);
  CHECK(e.precision_per_class[1].label == 1);
  CHECK(e.precision_per_class[1].mean == Approx(1.0 / 3));
  CHECK(e.average_precision_per_class[0].mean == Approx(5.0 / 9));
}

TEST_CASE("results carry their metric and the evaluator refuses to mix metrics", "[eval]") {
  // The notebook: a cosine E2LSH index. Evaluated as Euclidean distances, its
  // similarities gave a different recall without any sign of the mistake.
  const RowMatrix<float> data = gaussian<float>(2000, 16, 11);
  const RowMatrix<float> queries = gaussian<float>(50, 16, 12);
  E2LSHParams p;
  p.num_tables = 4;
  p.num_hashes = 4;
  p.bucket_width = 1.0;
  E2LSHIndex<float, Cosine> index(16, p);
  index.add(data);
  const auto result = index.search(queries, 10);
  const auto truth = ground_truth<float, Cosine>(data, queries, 10);
  CHECK(result.metric() == "cosine");
  CHECK(truth.metric() == "cosine");
  CHECK(ExactIndex<float, Euclidean>::borrow(data.data(), 2000, 16).search(queries, 1).metric() ==
        "euclidean");

  // Without a metric argument the evaluator reads the result's: the same figures as naming it.
  const double recall = recall_at_k(result, truth, 10);
  CHECK(recall == recall_at_k<Cosine>(result, truth, 10));
  CHECK(recall > 0.0);
  CHECK(recall < 1.0);  // a real approximate result, so a wrong bound would show
  CHECK(recall_per_query(result, truth, 10) == recall_per_query<Cosine>(result, truth, 10));
  const std::vector<Label> query_labels(50, 0);
  const std::vector<Label> base_labels(2000, 0);
  const auto e = evaluate(result, truth, query_labels, base_labels, 10, 1.0);
  CHECK(e.recall == recall);
  CHECK(e.mean_value ==
        evaluate<Cosine>(result, truth, query_labels, base_labels, 10, 1.0).mean_value);

  // Asking for another metric, or comparing with truth of another metric, is an error that names
  // both metrics (this was the silently wrong 0.473 against 0.719).
  CHECK_THROWS_AS(recall_at_k<Euclidean>(result, truth, 10), InvalidArgument);
  CHECK_THROWS_WITH(recall_at_k<Euclidean>(result, truth, 10),
                    Catch::Contains("cosine") && Catch::Contains("euclidean"));
  CHECK_THROWS_WITH((evaluate<Euclidean>(result, truth, query_labels, base_labels, 10, 1.0)),
                    Catch::Contains("cosine") && Catch::Contains("euclidean"));
  const auto l2_truth = ground_truth<float, Euclidean>(data, queries, 10);
  CHECK_THROWS_AS(recall_at_k(result, l2_truth, 10), InvalidArgument);
  CHECK_THROWS_WITH(recall_at_k(result, l2_truth, 10),
                    Catch::Contains("cosine") && Catch::Contains("euclidean"));
  CHECK_THROWS_WITH(recall_at_k<Cosine>(result, l2_truth, 10),
                    Catch::Contains("cosine") && Catch::Contains("euclidean"));
  CHECK_THROWS_WITH(evaluate(result, l2_truth, query_labels, base_labels, 10, 1.0),
                    Catch::Contains("cosine") && Catch::Contains("euclidean"));
}

TEST_CASE("results built by hand take the metric of the truth or a named one", "[eval]") {
  const auto truth = make_result({{0, 1, 2}, {0, 1, 2}}, {{1, 2, 3}, {1, 2, 3}});
  const auto result = make_result({{0, 5, 7}, {0, 1, -1}}, {{1, 2.5, 3.0029}, {1, 3.01, kInf}});
  // Neither knows its metric: the caller must name it.
  CHECK_THROWS_AS(recall_at_k(result, truth, 3), InvalidArgument);
  CHECK_THROWS_WITH(recall_at_k(result, truth, 3), Catch::Contains("recall_at_k<Euclidean>"));
  CHECK_THROWS_AS(evaluate(result, truth, kQueries, kBase, 3, 1.0), InvalidArgument);
  // One side records it (under an alias here): that metric is used.
  auto named = truth;
  named.set_metric("l2");
  CHECK(recall_at_k(result, named, 3) == recall_at_k<Euclidean>(result, truth, 3));
  CHECK(recall_at_k<Euclidean>(result, named, 3) == recall_at_k<Euclidean>(result, truth, 3));
  CHECK_THROWS_WITH(recall_at_k<InnerProduct>(result, named, 3),
                    Catch::Contains("'l2'") && Catch::Contains("'ip'"));
  auto unknown = truth;
  unknown.set_metric("hamming");
  CHECK_THROWS_WITH(recall_at_k(result, unknown, 3), Catch::Contains("hamming"));
}

TEST_CASE("label checks reject bad input with a clear error", "[eval]") {
  const auto r = sample();
  CHECK_THROWS_AS(precision_at_k(r, {0}, kBase, 3), DimensionMismatch);
  CHECK_THROWS_AS(precision_at_k(r, {0, -1}, kBase, 3), InvalidArgument);
  CHECK_THROWS_AS(precision_at_k(r, kQueries, {0, 0, 1, 1, -2, 0}, 3), InvalidArgument);
  CHECK_THROWS_AS(precision_at_k(r, kQueries, {0, 0, 1}, 3), InvalidArgument);  // id 5 unknown
  CHECK_THROWS_AS(mean_average_precision(r, kQueries, kBase, 4), InvalidArgument);
  CHECK_THROWS_WITH(precision_at_k(r, kQueries, {0, 0, 1}, 3),
                    Catch::Contains("outside the 3 base labels"));
}

TEMPLATE_TEST_CASE("ground truth matches a brute-force oracle", "[eval]", float, double) {
  using T = TestType;
  std::mt19937 rng(7);
  std::normal_distribution<T> g(0, 1);
  RowMatrix<T> wide(300, 12);
  for (Eigen::Index i = 0; i < wide.size(); ++i) wide.data()[i] = g(rng);
  RowMatrix<T> queries(20, 9);
  for (Eigen::Index i = 0; i < queries.size(); ++i) queries.data()[i] = g(rng);
  const RowMatrix<T> data = wide.leftCols(9);
  const auto check = [&](const auto& truth, auto metric) {
    using Metric = decltype(metric);
    REQUIRE(truth.num_queries() == 20);
    REQUIRE(truth.k() == 5);
    for (Eigen::Index q = 0; q < 20; ++q) {
      const auto hits = testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)), 5);
      for (Eigen::Index j = 0; j < 5; ++j) {
        CHECK(truth.ids()(q, j) == hits[static_cast<std::size_t>(j)].id);
        CHECK(truth.distances()(q, j) ==
              Approx(static_cast<double>(hits[static_cast<std::size_t>(j)].value)).epsilon(1e-4));
      }
    }
  };
  check(ground_truth<T, Euclidean>(data, queries, 5, 2), Euclidean{});
  check(ground_truth<T, Cosine>(data, queries, 5, 1), Cosine{});
  // Rows with a stride (a block of a wider matrix) give the same answer.
  check(ground_truth<T, Euclidean>(wide.leftCols(9), queries, 5, 2), Euclidean{});
  CHECK((ground_truth<T, Euclidean>(data, queries, 301)).ids()(0, 300) == -1);  // padded
  CHECK_THROWS_AS((ground_truth<T, Euclidean>(data, queries, 0)), InvalidArgument);
  CHECK_THROWS_AS((ground_truth<T, Euclidean>(data, wide, 5)), DimensionMismatch);
}
