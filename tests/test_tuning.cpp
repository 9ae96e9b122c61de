#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "pstable/index/tuning.hpp"

using namespace pstable;

namespace {

// Points around 40 random centres: neighbours are meaningful, as in real data.
RowMatrix<float> clustered(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  RowMatrix<float> centres(40, cols);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = 4 * g(rng);
  RowMatrix<float> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    m.row(i) = centres.row(i % 40);
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) += g(rng);
  }
  return m;
}

TuneOptions small_options() {
  TuneOptions o;
  o.k = 5;
  o.target_recall = 0.8;
  o.num_queries = 60;
  o.max_tables = 12;
  o.hash_counts = {4, 8};
  o.table_collision = {0.05, 0.2};
  o.probe_counts = {0, 4, 16};
  return o;
}

}  // namespace

TEST_CASE("the tuner reaches the target and reports what it measured", "[tuning]") {
  const RowMatrix<float> data = clustered(3000, 16, 1);
  const auto options = small_options();
  const TuneResult r = tune_e2lsh<float, Euclidean>(data, options);
  CHECK_NOTHROW(r.params.validate());
  CHECK(r.reached_target);
  CHECK(r.recall >= options.target_recall);
  CHECK(r.indexed_points == 3000 - 60);
  CHECK(r.mean_visited > 0);
  CHECK(r.visited_fraction == Approx(r.mean_visited / r.indexed_points));
  CHECK(r.queries_per_second > 0);
  CHECK(r.typical_distance > 0);
  REQUIRE_FALSE(r.trials.empty());
  // The choice: of the accepted trials within cost_tolerance of the cheapest, the one with the
  // fewest candidates; the real index reproduces its sample recall (same functions, same seed).
  const auto accepted = [&](const TuneTrial& t) {
    return t.recall >= options.target_recall + options.recall_margin;
  };
  double cheapest = std::numeric_limits<double>::infinity();
  for (const auto& t : r.trials) {
    if (accepted(t)) cheapest = std::min(cheapest, t.estimated_us);
  }
  const TuneTrial* chosen = nullptr;
  for (const auto& t : r.trials) {
    if (accepted(t) && t.estimated_us <= cheapest * (1 + options.cost_tolerance) &&
        (!chosen || t.mean_visited < chosen->mean_visited)) {
      chosen = &t;
    }
  }
  REQUIRE(chosen != nullptr);
  CHECK(chosen->estimated_us >= cheapest);
  CHECK(chosen->params.num_tables == r.params.num_tables);
  CHECK(chosen->params.num_hashes == r.params.num_hashes);
  CHECK(chosen->params.num_probes == r.params.num_probes);
  CHECK(chosen->params.min_collisions == r.params.min_collisions);
  CHECK(r.recall == Approx(chosen->recall).margin(0.02));
  CHECK(r.mean_visited == Approx(chosen->mean_visited).epsilon(0.05));
  // Deterministic for a seed once the unit costs are fixed (timed costs vary between runs).
  auto fixed = options;
  fixed.distance_us = 0.3;
  fixed.lookup_us = 0.1;
  fixed.hash_us = 0.01;
  fixed.entry_us = 0.005;
  const TuneResult once = tune_e2lsh<float, Euclidean>(data, fixed);
  const TuneResult again = tune_e2lsh<float, Euclidean>(data, fixed);
  CHECK(once.distance_us == 0.3);
  CHECK(again.params.num_probes == once.params.num_probes);
  CHECK(again.params.num_tables == once.params.num_tables);
  CHECK(again.params.min_collisions == once.params.min_collisions);
  CHECK(again.params.bucket_width == once.params.bucket_width);
  CHECK(again.recall == once.recall);
  CHECK(again.trials.size() == once.trials.size());
}

TEST_CASE("the tuner's collision counting matches the index's", "[tuning]") {
  // Only m = 3 allowed: the chosen index counts collisions like the tuner's walk did, so its
  // sample recall and candidates agree with the trial's (same functions; rare float-rounding
  // differences at slot boundaries aside), and m = 3 visits fewer points than m = 1 would.
  const RowMatrix<float> data = clustered(3000, 16, 4);
  auto options = small_options();
  options.collision_thresholds = {3};
  const TuneResult r = tune_e2lsh<float, Euclidean>(data, options);
  REQUIRE(r.reached_target);
  CHECK(r.params.min_collisions == 3);
  const TuneTrial* chosen = nullptr;
  for (const auto& t : r.trials) {
    CHECK(t.params.min_collisions == 3);
    if (t.params.num_tables == r.params.num_tables && t.params.num_hashes == r.params.num_hashes &&
        t.params.num_probes == r.params.num_probes &&
        t.params.bucket_width == r.params.bucket_width) {
      chosen = &t;
    }
  }
  REQUIRE(chosen != nullptr);
  // The tuner's walk is the index's (same hash functions, tables and candidate selection with
  // its top-up), so the sample figures agree exactly.
  CHECK(r.mean_visited == chosen->mean_visited);
  CHECK(r.recall == chosen->recall);
  CHECK(chosen->mean_entries > chosen->mean_visited);
}

TEST_CASE("the tuner handles cosine", "[tuning]") {
  const RowMatrix<double> data = clustered(2000, 12, 2).cast<double>();
  auto options = small_options();
  const TuneResult r = tune_e2lsh<double, Cosine>(data, options);
  CHECK(r.recall >= options.target_recall);
  CHECK(r.typical_distance < 2.0);  // chord length between unit vectors
}

TEST_CASE("the tuner handles Manhattan with the Cauchy family", "[tuning]") {
  const RowMatrix<float> data = clustered(3000, 16, 5);
  auto options = small_options();
  const TuneResult r = tune_e2lsh<float, Manhattan>(data, options);
  CHECK(r.reached_target);
  CHECK(r.recall >= options.target_recall);
  CHECK(r.visited_fraction < 1.0);
  // w is set from the L1 collision probability: p(r, w)^k equals one of the table_collision levels.
  const double p =
      std::pow(collision_probability<Cauchy>(r.typical_distance, r.params.bucket_width),
               r.params.num_hashes);
  bool matches = false;
  for (double rho : options.table_collision) matches = matches || std::abs(p - rho) < 1e-6;
  CHECK(matches);
}

TEST_CASE("the tuner rejects bad options and data", "[tuning][errors]") {
  const RowMatrix<float> data = clustered(500, 8, 3);
  const auto rejects = [&](auto change) {
    TuneOptions o = small_options();
    change(o);
    CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data, o)), InvalidArgument);
  };
  rejects([](TuneOptions& o) { o.k = 0; });
  rejects([](TuneOptions& o) { o.target_recall = 0; });
  rejects([](TuneOptions& o) { o.target_recall = 1.5; });
  rejects([](TuneOptions& o) { o.recall_margin = -0.1; });
  rejects([](TuneOptions& o) { o.num_queries = 0; });
  rejects([](TuneOptions& o) { o.max_points = -1; });
  rejects([](TuneOptions& o) { o.max_tables = 0; });
  rejects([](TuneOptions& o) { o.hash_counts = {}; });
  rejects([](TuneOptions& o) { o.hash_counts = {40}; });
  rejects([](TuneOptions& o) { o.table_collision = {1.0}; });
  rejects([](TuneOptions& o) { o.probe_counts = {-1}; });
  rejects([](TuneOptions& o) { o.lookup_us = -1; });
  rejects([](TuneOptions& o) { o.entry_us = std::nan(""); });
  rejects([](TuneOptions& o) { o.cost_tolerance = -0.1; });
  rejects([](TuneOptions& o) { o.collision_thresholds = {}; });
  rejects([](TuneOptions& o) { o.collision_thresholds = {0}; });
  rejects([](TuneOptions& o) { o.collision_thresholds = {13}; });  // max_tables = 12
  rejects([](TuneOptions& o) {  // k = 32 allows 512 / 32 = 16 tables: m = 20 never fits
    o.max_tables = 32;
    o.hash_counts = {32};
    o.collision_thresholds = {20};
  });
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data.topRows(20), small_options())),
                  InvalidArgument);
  RowMatrix<float> bad = data;
  bad(3, 3) = std::nanf("");
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(bad, small_options())), InvalidData);
}
