#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pstable/index/tuning.hpp"
#include "pstable/storage/scalar_codes.hpp"

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
  CHECK(r.exact_queries_per_second > 0);
  CHECK(r.scan_is_faster == (r.queries_per_second <= r.exact_queries_per_second));
  const auto accepted = [&](const TuneTrial& t) {
    return t.recall >= options.target_recall + options.recall_margin;
  };
  const auto chosen_in = [&](const TuneResult& result) -> const TuneTrial* {
    for (const auto& t : result.trials) {
      if (detail::same_setting(t.params, result.params)) return &t;
    }
    return nullptr;
  };
  // Timed costs: the model shortlists, real indexes decide. The choice was built and timed, and
  // no other shortlisted setting reaching the target was faster beyond cost_tolerance.
  const TuneTrial* chosen = chosen_in(r);
  REQUIRE(chosen != nullptr);
  CHECK(accepted(*chosen));
  CHECK(chosen->measured_qps == r.queries_per_second);
  int built = 0;
  for (const auto& t : r.trials) {
    if (t.measured_qps == 0) continue;
    ++built;
    CHECK(accepted(t));
    // A real timing: a search of hundreds of queries takes well over 10 ns a query (a time read
    // before the search ran would give nq / 1 ns = 1e12 and more).
    CHECK(t.measured_qps < 1e8);
    CHECK(t.measured_qps <= r.queries_per_second * (1 + options.cost_tolerance));
  }
  CHECK(built >= 2);
  CHECK(built <= options.shortlist + 1 + detail::kTuneRefitRuns);
  // The real index reproduces the trial's sample figures (same functions, same seed).
  CHECK(r.recall == Approx(chosen->recall).margin(0.02));
  CHECK(r.mean_visited == Approx(chosen->mean_visited).epsilon(0.05));

  // Fixed unit costs: the model alone decides, reproducibly: of the accepted trials within
  // cost_tolerance of the cheapest, the one with the fewest candidates; only it is built.
  auto fixed = options;
  fixed.distance_us = 0.3;
  fixed.lookup_us = 0.1;
  fixed.hash_us = 0.01;
  fixed.entry_us = 0.005;
  const TuneResult once = tune_e2lsh<float, Euclidean>(data, fixed);
  const TuneResult again = tune_e2lsh<float, Euclidean>(data, fixed);
  double cheapest = std::numeric_limits<double>::infinity();
  for (const auto& t : once.trials) {
    if (accepted(t)) cheapest = std::min(cheapest, t.estimated_us);
  }
  const TuneTrial* modelled = nullptr;
  for (const auto& t : once.trials) {
    if (accepted(t) && t.estimated_us <= cheapest * (1 + fixed.cost_tolerance) &&
        (!modelled || t.mean_visited < modelled->mean_visited)) {
      modelled = &t;
    }
    CHECK((t.measured_qps > 0) == (&t == chosen_in(once)));
  }
  REQUIRE(modelled != nullptr);
  CHECK(modelled == chosen_in(once));
  CHECK(once.distance_us == 0.3);
  CHECK(again.params.num_probes == once.params.num_probes);
  CHECK(again.params.num_tables == once.params.num_tables);
  CHECK(again.params.min_collisions == once.params.min_collisions);
  CHECK(again.params.bucket_width == once.params.bucket_width);
  CHECK(again.recall == once.recall);
  CHECK(again.trials.size() == once.trials.size());
}

TEST_CASE("the tuner times indexes of the storage it is given", "[tuning][sq8]") {
  const RowMatrix<float> data = clustered(3000, 16, 3);
  auto fixed = small_options();
  fixed.distance_us = 0.3;
  fixed.lookup_us = 0.1;
  fixed.hash_us = 0.01;
  fixed.entry_us = 0.005;
  // Fixed costs: the model's choice stands whatever the storage, and the storages' results are
  // identical, so the timed index measures the same recall and candidates.
  const TuneResult full = tune_e2lsh<float, Euclidean>(data, fixed);
  const TuneResult coded = tune_e2lsh<float, Euclidean, Sq8Storage<float, Euclidean>>(data, fixed);
  CHECK(coded.params.num_tables == full.params.num_tables);
  CHECK(coded.params.num_probes == full.params.num_probes);
  CHECK(coded.params.bucket_width == full.params.bucket_width);
  CHECK(coded.recall == full.recall);
  CHECK(coded.mean_visited == full.mean_visited);
  // Timed costs: the shortlist is timed on sq4 indexes and reaches the target.
  const TuneResult timed =
      tune_e2lsh<float, Euclidean, Sq4Storage<float, Euclidean>>(data, small_options());
  CHECK(timed.reached_target);
  int built = 0;
  for (const auto& t : timed.trials) built += t.measured_qps > 0;
  CHECK(built >= 2);
}

TEST_CASE("the tuner chooses the storage when asked", "[tuning][sq8]") {
  const RowMatrix<float> data = clustered(3000, 16, 5);
  auto options = small_options();
  // Without choose_storage: the storage it was given, nothing else timed.
  const TuneResult plain =
      tune_e2lsh<float, Euclidean, Sq8Storage<float, Euclidean>>(data, options);
  CHECK(plain.storage == "sq8");
  CHECK(plain.storage_timings.empty());
  CHECK(tune_e2lsh<float, Euclidean>(data, options).storage == "full");

  // With it: the chosen setting timed with every storage (the tuner's own first), and the
  // result is the fastest of them, with that storage's figures.
  options.choose_storage = true;
  std::vector<TuneProgress> seen;
  options.progress = [&](const TuneProgress& p) { seen.push_back(p); };
  const TuneResult r = tune_e2lsh<float, Euclidean, Sq8Storage<float, Euclidean>>(data, options);
  REQUIRE(r.storage_timings.size() == 3);
  CHECK(r.storage_timings[0].storage == "sq8");
  std::vector<std::string> names;
  double fastest = 0;
  std::string fastest_name;
  for (const auto& t : r.storage_timings) {
    names.push_back(t.storage);
    CHECK(t.queries_per_second > 0);
    CHECK(t.queries_per_second < 1e8);  // a real timing (see above)
    if (t.queries_per_second > fastest) {
      fastest = t.queries_per_second;
      fastest_name = t.storage;
    }
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"full", "sq4", "sq8"});
  CHECK(r.storage == fastest_name);
  CHECK(r.queries_per_second == fastest);
  CHECK(r.reached_target);
  // Two more indexes timed: the progress total counts them, and the last report completes it.
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.front().total ==
        1 + static_cast<int>(options.hash_counts.size() * options.table_collision.size()) + 1 +
            options.shortlist + detail::kTuneRefitRuns + 2);
  CHECK(seen.back().done == seen.front().total);
  // The storage step's rounds report without a step, so that the callback may cancel between
  // them: reports that repeat the count before.
  int repeats = 0;
  for (std::size_t i = 1; i < seen.size(); ++i) {
    repeats += seen[i].done == seen[i - 1].done && std::string(seen[i].stage) == "timing";
  }
  CHECK(repeats >= detail::kStorageRounds);

  // Fixed costs time nothing: the given storage stands.
  options.progress = nullptr;
  options.distance_us = 0.3;
  options.lookup_us = 0.1;
  options.hash_us = 0.01;
  options.entry_us = 0.005;
  const TuneResult fixed =
      tune_e2lsh<float, Euclidean, Sq4Storage<float, Euclidean>>(data, options);
  CHECK(fixed.storage == "sq4");
  CHECK(fixed.storage_timings.empty());
}

TEST_CASE("the tuner takes the caller's sample queries", "[tuning]") {
  // A database of near-duplicates: every point has three jittered copies, so a held-out row
  // always finds its twins at distance ~0 and is a poor stand-in for a real query.
  const RowMatrix<float> originals = clustered(800, 16, 6);
  RowMatrix<float> data(4 * originals.rows(), 16);
  std::mt19937 rng(7);
  std::normal_distribution<float> jitter(0, 0.01f);
  for (Eigen::Index i = 0; i < data.rows(); ++i) {
    data.row(i) = originals.row(i / 4);
    for (Eigen::Index j = 0; j < 16; ++j) data(i, j) += jitter(rng);
  }
  const RowMatrix<float> queries = clustered(80, 16, 8);
  const auto options = small_options();
  const TuneResult r = tune_e2lsh<float, Euclidean>(data, queries, options);
  CHECK(r.indexed_points == data.rows());  // nothing held out
  CHECK(r.reached_target);
  // The recall it reports is the recall on those queries: check it against brute force.
  E2LSHIndex<float, Euclidean> index(16, r.params);
  index.add(data);
  const auto found = index.search(queries.topRows(options.num_queries), options.k);
  const auto truth = ExactIndex<float, Euclidean>::borrow(data.data(), data.rows(), 16)
                         .search(queries.topRows(options.num_queries), options.k);
  double hits = 0;
  for (Eigen::Index q = 0; q < found.num_queries(); ++q) {
    for (Eigen::Index j = 0; j < options.k; ++j) {
      for (Eigen::Index c = 0; c < options.k; ++c) hits += found.ids()(q, c) == truth.ids()(q, j);
    }
  }
  CHECK(r.recall == Approx(hits / static_cast<double>(truth.ids().size())));

  RowMatrix<float> wrong(3, 15);
  wrong.setOnes();
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data, wrong, options)), DimensionMismatch);
  RowMatrix<float> nan = queries.topRows(3);
  nan(1, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data, nan, options)), InvalidData);
  const RowMatrix<float> none(0, 16);
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data, none, options)), InvalidArgument);
}

TEST_CASE("drift_scale cancels a linear drift and ignores noise", "[tuning]") {
  // Reference timings 1.0 (first), then 1.2 and 1.4 around a trial timed at speed 1.3.
  CHECK(detail::drift_scale(1.0, 1.2, 1.4) == Approx(1 / 1.3));
  CHECK(detail::drift_scale(2.0, 2.0, 2.0) == 1);
  CHECK(detail::drift_scale(1.0, 0.5, 0.5) == 2);
  CHECK(detail::drift_scale(1.0, 0.2, 0.3) == 1);  // 4x: noise, not drift
  CHECK(detail::drift_scale(1.0, 5.0, 5.0) == 1);
  CHECK(detail::drift_scale(0.0, 1.0, 1.0) == 1);  // below the clock's resolution
  CHECK(detail::drift_scale(1.0, 0.0, 0.0) == 1);
}

TEST_CASE("the tuner ranks its shortlist as if timed at one moment", "[tuning]") {
  // Real indexes (their results and recall are real) with made-up timings: each setting costs
  // a fixed time per query, and the machine slows by 4 % at every timing, as a drifting
  // virtual machine does. The tuner re-times its first index beside every other, so the
  // drift cancels: every shortlisted setting's q/s is its own cost's, and the cheapest one
  // reaching the target is chosen, whatever the order it was timed in.
  const RowMatrix<float> data = clustered(3000, 16, 11);
  const RowMatrix<float> queries = clustered(60, 16, 12);
  auto options = small_options();
  options.cost_tolerance = 0;
  options.choose_storage = false;
  // Distinct for distinct settings (no ties for the tuner to break otherwise than here).
  const auto cost = [](const E2LSHParams& p, double visited) {
    return 1e-6 * (p.num_tables * (1.0 + p.num_probes) + 0.05 * visited + 0.01 * p.num_hashes +
                   0.001 * p.bucket_width + 0.1 * p.min_collisions);
  };
  struct Built {
    E2LSHParams params;
    double cost, recall;
  };
  std::vector<Built> built;
  int timings = 0;
  const detail::SearchBuilder<float> builder = [&](const E2LSHParams& params,
                                                   const RowMatrix<float>& base) {
    auto index = std::make_shared<E2LSHIndex<float, Euclidean>>(base.cols(), params);
    index->add(base);
    const auto found = index->search(queries, options.k, 1);
    const auto truth = ExactIndex<float, Euclidean>::borrow(base.data(), base.rows(), base.cols())
                           .search(queries, options.k);
    double hits = 0;
    for (Eigen::Index q = 0; q < found.num_queries(); ++q) {
      for (Eigen::Index j = 0; j < options.k; ++j) {
        for (Eigen::Index c = 0; c < options.k; ++c) {
          hits += found.ids()(q, c) == truth.ids()(q, j);
        }
      }
    }
    built.push_back({params, cost(params, found.mean_visited()),
                     hits / static_cast<double>(truth.ids().size())});
    const double per_query = built.back().cost;
    return detail::TimedSearch<float>(
        [&timings, index, per_query](const RowMatrix<float>& q, Eigen::Index k, double& seconds) {
          auto result = index->search(q, k, 1);
          // 4 % a timing: after the at most 1 + 2 x (4 + 3) timings of the defaults, 1.56x,
          // within what drift_scale corrects.
          seconds = per_query * static_cast<double>(q.rows()) * (1 + 0.04 * timings++);
          return result;
        });
  };
  const MatrixRef<float> sample(queries);
  const TuneResult r =
      detail::tune_e2lsh_impl<float, Euclidean>(data, &sample, options, "full", builder);
  REQUIRE(built.size() >= 3);
  CHECK(timings == 2 * static_cast<int>(built.size()) - 1);  // each after the first: twice
  const double target = options.target_recall + options.recall_margin;
  const Built* cheapest = nullptr;
  for (const auto& b : built) {
    if (b.recall >= target - 1e-12 && (!cheapest || b.cost < cheapest->cost)) cheapest = &b;
  }
  REQUIRE(cheapest != nullptr);
  CHECK(r.params.num_tables == cheapest->params.num_tables);
  CHECK(r.params.num_hashes == cheapest->params.num_hashes);
  CHECK(r.params.num_probes == cheapest->params.num_probes);
  CHECK(r.params.min_collisions == cheapest->params.min_collisions);
  CHECK(r.queries_per_second == Approx(1 / cheapest->cost));
  for (const auto& b : built) {
    for (const auto& t : r.trials) {
      if (detail::same_setting(t.params, b.params)) CHECK(t.measured_qps == Approx(1 / b.cost));
    }
  }
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
    if (detail::same_setting(t.params, r.params)) chosen = &t;
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
  // Every storage holds L1 rows too (the code storages bound the distance itself).
  options.choose_storage = true;
  const TuneResult chosen = tune_e2lsh<float, Manhattan>(data, options);
  CHECK(chosen.storage_timings.size() == 3);
  CHECK(chosen.reached_target);
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
  rejects([](TuneOptions& o) { o.shortlist = -1; });
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

TEST_CASE("the tuner reports its progress and a throwing callback cancels it", "[tuning]") {
  const RowMatrix<float> data = clustered(1500, 16, 9);
  auto options = small_options();
  std::vector<TuneProgress> seen;
  options.progress = [&](const TuneProgress& p) { seen.push_back(p); };
  const auto result = tune_e2lsh<float, Euclidean>(data, options);
  REQUIRE(seen.size() >= 3);
  const int total = seen.front().total;
  const bool shortlisting = options.shortlist > 0 && !options.fixed_costs();
  CHECK(total == 1 + static_cast<int>(options.hash_counts.size() * options.table_collision.size()) +
                     1 + (shortlisting ? options.shortlist + detail::kTuneRefitRuns : 0));
  CHECK(seen.front().done == 0);
  CHECK(std::string(seen.front().stage) == "ground truth");
  CHECK(seen.back().done == total);
  CHECK(std::string(seen.back().stage) == "done");
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i].total == total);
    CHECK(seen[i].done >= seen[i - 1].done);
    if (i + 1 < seen.size()) CHECK(seen[i].done < total);  // only the last report completes
  }
  CHECK(result.params.num_tables >= 1);

  struct Cancelled {};
  int calls = 0;
  options.progress = [&](const TuneProgress& p) {
    if (++calls == 3) throw Cancelled{};
    CHECK(p.done < 3);
  };
  CHECK_THROWS_AS((tune_e2lsh<float, Euclidean>(data, options)), Cancelled);
  CHECK(calls == 3);
}
