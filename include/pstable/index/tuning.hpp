#pragma once

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/collision_counts.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/candidate_walk.hpp"
#include "pstable/index/collision.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/index/hashing.hpp"
#include "pstable/index/multiprobe.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/storage/traits.hpp"

namespace pstable {

/// Where a running tune_e2lsh is (TuneOptions::progress).
struct TuneProgress {
  int done = 0;   ///< steps finished
  int total = 0;  ///< steps in all; the last report has done == total
  /// What the next step does: "ground truth", "model" (tables of one k and w, every probe count
  /// and threshold), "timing" (a shortlisted index built and timed), or "done".
  const char* stage = "";
};

/// What `tune_e2lsh` aims for and how much work it may do.
struct TuneOptions {
  Eigen::Index k = 10;         ///< neighbours per query the index must find
  double target_recall = 0.9;  ///< recall@k to reach on the held-out queries
  /// A setting is accepted when its sample recall is >= target_recall + recall_margin: the sample
  /// recall of 1000 queries x 10 neighbours has a standard error near 0.005 (Fashion-MNIST).
  /// With 300 queries (about 0.009) the cheapest accepted setting reached only 0.894-0.898 on
  /// the 10,000 test queries: selecting the cheapest of many noisy trials favours overestimates.
  double recall_margin = 0.01;
  Eigen::Index num_queries = 1000;  ///< held-out sample queries (excluded from the index)
  Eigen::Index max_points = 0;      ///< > 0: tune on a random sample of this many points
  int max_tables = 32;              ///< largest L tried
  std::vector<int> hash_counts = {8, 12, 16};                      ///< k (hashes per table) tried
  std::vector<double> table_collision = {0.01, 0.02, 0.05, 0.12};  ///< p(r)^k tried, sets w
  std::vector<int> probe_counts = {0, 4, 12, 30, 60, 120};         ///< probes per table tried
  /// min_collisions tried (collision counting; values above a trial's L are skipped).
  std::vector<int> collision_thresholds = {1, 2, 3, 4};
  std::uint64_t seed = 1;  ///< seed of the sample and of the projections
  /// Unit costs of the query-time model, in microseconds; 0 = time them on this machine. Timings
  /// vary from run to run, so fix all four to make the choice reproducible.
  double distance_us = 0;
  double lookup_us = 0;
  double hash_us = 0;
  double entry_us = 0;  ///< one bucket entry read and counted
  /// Settings whose modelled cost is within this fraction of the cheapest count as equally fast
  /// (timed unit costs vary by about this much between runs); of those, the one computing the
  /// fewest distances is chosen. 0 = strictly the cheapest.
  double cost_tolerance = 0.1;
  /// The model only shortlists: this many of the cheapest settings it accepts are built as real
  /// indexes and timed over the sample queries, and the fastest measured wins (within
  /// cost_tolerance, the one computing the fewest distances). 0, or all four unit costs fixed:
  /// the model alone decides (reproducible). After them, up to 3 more settings are timed: the
  /// cheapest under the model refit (least squares) to every timing so far, which keeps the
  /// choice steady where a longer shortlist alone did not. Every setting after the first is
  /// timed beside a re-timing of the first (whose index is held meanwhile), and its time scaled
  /// to the machine's speed at the first timing (detail::drift_scale).
  int shortlist = 4;
  /// Also time the chosen setting with every candidate storage (`Storages`: full rows,
  /// 8-bit and 4-bit codes) and keep the fastest: TuneResult::storage names it. Codes pay on data
  /// they fit (8-bit pixels) and can lose on data they do not (4-bit codes of float features
  /// re-rank most candidates). The tuner's own storage is timed again with them: each storage's
  /// index is timed in 3 alternating rounds and keeps its fastest. Memory: the indexes are held
  /// together meanwhile (one per storage), and while the shortlist is timed the fastest index so
  /// far and the reference (see shortlist) are kept beside the one being timed (reused when one
  /// is the chosen setting's). Ignored when the unit costs are fixed (nothing is timed).
  bool choose_storage = false;
  /// Called before the first step and after every step, on the calling thread (not an option of
  /// for_each_field). It may throw to cancel: the exception leaves tune_e2lsh, nothing else is
  /// changed. The Python binding draws a progress bar with it and checks for Ctrl-C.
  std::function<void(const TuneProgress&)> progress;

  /// Calls visit(name, member pointer, doc) for every option, in declaration order (see
  /// E2LSHParams::for_each_field).
  template <class Visit>
  static void for_each_field(Visit&& visit) {
    visit("k", &TuneOptions::k, "neighbours per query the index must find");
    visit("target_recall", &TuneOptions::target_recall,
          "recall@k to reach on the held-out queries");
    visit("recall_margin", &TuneOptions::recall_margin, "accept a setting at target_recall + this");
    visit("num_queries", &TuneOptions::num_queries, "held-out sample queries");
    visit("max_points", &TuneOptions::max_points,
          "> 0: tune on a random sample of this many points");
    visit("max_tables", &TuneOptions::max_tables, "largest L tried");
    visit("hash_counts", &TuneOptions::hash_counts, "k (hashes per table) tried");
    visit("table_collision", &TuneOptions::table_collision, "p(r)^k tried, sets w");
    visit("probe_counts", &TuneOptions::probe_counts, "probes per table tried");
    visit("collision_thresholds", &TuneOptions::collision_thresholds, "min_collisions tried");
    visit("seed", &TuneOptions::seed, "seed of the sample and of the projections");
    visit("distance_us", &TuneOptions::distance_us, "unit cost of a distance, us (0 = timed)");
    visit("lookup_us", &TuneOptions::lookup_us, "unit cost of a bucket lookup, us (0 = timed)");
    visit("hash_us", &TuneOptions::hash_us, "unit cost of one hash function, us (0 = timed)");
    visit("entry_us", &TuneOptions::entry_us, "unit cost of a bucket entry, us (0 = timed)");
    visit("cost_tolerance", &TuneOptions::cost_tolerance,
          "settings this close to the cheapest tie");
    visit("shortlist", &TuneOptions::shortlist,
          "cheapest modelled settings built and timed (0 = the model decides)");
    visit("choose_storage", &TuneOptions::choose_storage,
          "also time the choice with every storage and keep the fastest");
  }

  /// True when all four unit costs are given: nothing is timed, the choice is reproducible.
  bool fixed_costs() const noexcept {
    return distance_us > 0 && lookup_us > 0 && hash_us > 0 && entry_us > 0;
  }

  void validate() const {
    using detail::concat;
    if (k < 1) throw InvalidArgument(concat("k must be >= 1, got ", k));
    if (!(target_recall > 0 && target_recall <= 1)) {
      throw InvalidArgument(concat("target_recall must be in (0, 1], got ", target_recall));
    }
    if (!(cost_tolerance >= 0 && cost_tolerance <= 10)) {
      throw InvalidArgument(concat("cost_tolerance must be in [0, 10], got ", cost_tolerance));
    }
    if (!(recall_margin >= 0 && recall_margin < 1)) {
      throw InvalidArgument(concat("recall_margin must be in [0, 1), got ", recall_margin));
    }
    if (num_queries < 1)
      throw InvalidArgument(concat("num_queries must be >= 1, got ", num_queries));
    if (max_points < 0) throw InvalidArgument(concat("max_points must be >= 0, got ", max_points));
    if (max_tables < 1 || max_tables > E2LSHParams::kMaxTables) {
      throw InvalidArgument(
          concat("max_tables must be in [1, ", E2LSHParams::kMaxTables, "], got ", max_tables));
    }
    for (double c : {distance_us, lookup_us, hash_us, entry_us}) {
      if (!std::isfinite(c) || c < 0) {
        throw InvalidArgument(concat("unit costs must be finite and >= 0 (0 = timed), got ", c));
      }
    }
    if (hash_counts.empty() || table_collision.empty() || probe_counts.empty() ||
        collision_thresholds.empty()) {
      throw InvalidArgument(
          "hash_counts, table_collision, probe_counts and collision_thresholds must not be empty");
    }
    for (int m : collision_thresholds) {
      if (m < 1 || m > max_tables) {
        throw InvalidArgument(concat(
            "collision_thresholds entries must be in [1, max_tables = ", max_tables, "], got ", m));
      }
    }
    for (int h : hash_counts) {
      if (h < 1 || h > E2LSHParams::kMaxHashes) {
        throw InvalidArgument(
            concat("hash_counts entries must be in [1, ", E2LSHParams::kMaxHashes, "], got ", h));
      }
    }
    for (double c : table_collision) {
      if (!(c > 0 && c < 1))
        throw InvalidArgument(concat("table_collision entries must be in (0, 1), got ", c));
    }
    if (shortlist < 0 || shortlist > 64) {
      throw InvalidArgument(concat("shortlist must be in [0, 64], got ", shortlist));
    }
    for (int p : probe_counts) {
      if (p < 0 || p > E2LSHParams::kMaxProbes) {
        throw InvalidArgument(
            concat("probe_counts entries must be in [0, ", E2LSHParams::kMaxProbes, "], got ", p));
      }
    }
  }
};

/// One configuration the tuner measured on the sample (the fewest tables reaching the target, or
/// max_tables when none did).
struct TuneTrial {
  E2LSHParams params;
  double recall = 0;        ///< recall@k on the held-out queries
  double mean_visited = 0;  ///< distinct candidates per query
  double mean_probed = 0;   ///< buckets looked up per query
  double mean_entries = 0;  ///< bucket entries read per query (a row once per probed bucket)
  double estimated_us = 0;  ///< modelled query time, microseconds
  /// Queries per second of a real index with these parameters over the sample (one thread,
  /// processor time), for the shortlisted trials; 0 for the others. Every timing after the
  /// first is scaled to the machine's speed at the first (TuneOptions::shortlist).
  double measured_qps = 0;
};

/// One candidate storage's timing of the chosen setting (TuneOptions::choose_storage).
struct StorageTiming {
  std::string storage;  ///< its name ("full", "sq8", "sq4")
  /// One thread, processor time, over the sample queries: the fastest of
  /// detail::kStorageRounds alternating rounds.
  double queries_per_second = 0;
};

/// What the tuner chose and what the chosen index measured on the held-out queries.
struct TuneResult {
  E2LSHParams params;  ///< the chosen setting (see cost_tolerance)
  /// The candidate storage the figures below were measured with: the tuner's `Storage`, or
  /// with choose_storage the fastest of `storage_timings`.
  std::string storage;
  /// With choose_storage: the chosen setting timed with every storage that can hold the data
  /// (the tuner's own first); empty otherwise.
  std::vector<StorageTiming> storage_timings;
  double recall = 0;            ///< measured by an E2LSHIndex with `params` over the sample
  double mean_visited = 0;      ///< distinct candidates per query, same run
  double visited_fraction = 0;  ///< mean_visited / indexed points
  /// One thread, same run (processor time; the chosen trial's measured_qps, scaled like it);
  /// with choose_storage the fastest of the storage step's rounds (storage_timings).
  double queries_per_second = 0;
  double typical_distance = 0;  ///< median distance to the k-th neighbour (unit rows for cosine)
  bool reached_target = false;  ///< false: params is the best recall found
  Eigen::Index indexed_points = 0;  ///< points in the tuning index
  double distance_us = 0;           ///< timed cost of one distance computation
  double lookup_us = 0;             ///< timed cost of one bucket lookup (with probe generation)
  double hash_us = 0;               ///< timed cost of one hash function for one query
  double entry_us = 0;              ///< timed cost of reading and counting one bucket entry
  /// The exact scan (ExactIndex, one thread) over the same sample queries and points.
  double exact_queries_per_second = 0;
  /// True when the chosen setting is no faster than the exact scan: use an ExactIndex instead
  /// (small or hard data; params is still the best E2LSH setting found). Both sides are single
  /// timings (the index's scaled like its measured_qps): with choose_storage, the chosen
  /// storage's first round.
  bool scan_is_faster = false;
  std::vector<TuneTrial> trials;  ///< every measured configuration
};

namespace detail {

/// Settings timed after the shortlist: the cheapest under the model refit to the timings.
inline constexpr int kTuneRefitRuns = 3;

/// w with p(r, w)^k == rho for the family `Stable`, by bisection (p rises with w).
template <class Stable>
double width_for(double r, int k, double rho) {
  const double target = std::pow(rho, 1.0 / k);
  double lo = r * 1e-3, hi = r * 1e3;
  for (int i = 0; i < 100; ++i) {
    const double mid = std::sqrt(lo * hi);
    (collision_probability<Stable>(r, mid) < target ? lo : hi) = mid;
  }
  return hi;
}

// Processor time of the process: the tuner runs on one thread, and processor time is what
// a shared, loaded machine does not inflate.
inline double seconds_since(std::clock_t start) {
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

/// Timings of the tuner's unit costs (distance, hash, lookup, entry): the fastest of this many.
inline constexpr int kUnitCostRounds = 3;

/// The fastest of `rounds` timings of `work()`, in seconds of processor time.
template <class Work>
double fastest_of(int rounds, Work&& work) {
  double best = std::numeric_limits<double>::infinity();
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::clock();
    work();
    best = std::min(best, seconds_since(start));
  }
  return best;
}

}  // namespace detail

namespace detail {

/// A built index's timed search (the tuner's real-index step): searches `queries` for k
/// neighbours on one thread and sets `seconds` to the search's processor time. It may be
/// called again, to time the same index once more.
template <class T>
using TimedSearch =
    std::function<Neighbors<T>(const RowMatrix<T>& queries, Eigen::Index k, double& seconds)>;

/// Builds an E2LSHIndex of one storage over `base` with `params` and returns its timed search
/// (which owns the index). Type-erased, so that the tuner itself is compiled once per scalar and
/// metric, not once per storage.
template <class T>
using SearchBuilder =
    std::function<TimedSearch<T>(const E2LSHParams& params, const RowMatrix<T>& base)>;

template <class T, class Metric, class Storage>
SearchBuilder<T> search_builder() {
  return [](const E2LSHParams& params, const RowMatrix<T>& base) -> TimedSearch<T> {
    auto index = std::make_shared<E2LSHIndex<T, Metric, Storage>>(base.cols(), params);
    index->add(base);
    return [index](const RowMatrix<T>& queries, Eigen::Index k, double& seconds) {
      const auto start = std::clock();
      auto found = index->search(queries, k, 1);
      seconds = seconds_since(start);
      return found;
    };
  };
}

/// A search builder for every storage in `Storages`, with its name (TuneOptions::choose_storage).
template <class T, class Metric>
std::vector<std::pair<const char*, SearchBuilder<T>>> every_search_builder() {
  std::vector<std::pair<const char*, SearchBuilder<T>>> out;
  pstable::for_each_storage_type<T, Metric>([&](auto* tag) {
    using S = std::remove_pointer_t<decltype(tag)>;
    out.emplace_back(S::name, search_builder<T, Metric, S>());
  });
  return out;
}

/// The factor that scales a time taken between two re-timings of the reference index (`before`,
/// `after`) to the machine's speed at the reference's first timing (`first`): first over the
/// mean of the two, which cancels a drift that is linear across the three timings. Within
/// [1/2, 2]: a larger factor is noise (timings near the clock's resolution), not drift, and
/// leaves the time unscaled.
inline double drift_scale(double first, double before, double after) noexcept {
  const double mean = 0.5 * (before + after);
  if (!(first > 0 && mean > 0)) return 1;
  const double scale = first / mean;
  return scale >= 0.5 && scale <= 2 ? scale : 1;
}

/// True when two settings of one tuning are the same (L, k, w, probes, m; the seed is the
/// tuning's own).
inline bool same_setting(const E2LSHParams& a, const E2LSHParams& b) noexcept {
  return a.num_tables == b.num_tables && a.num_hashes == b.num_hashes &&
         a.bucket_width == b.bucket_width && a.num_probes == b.num_probes &&
         a.min_collisions == b.min_collisions;
}

/// Rounds of the storage step (TuneOptions::choose_storage): every storage's index is timed
/// once per round, the storages in turn, and each keeps its fastest round, so that a machine
/// whose speed drifts slows every storage alike.
inline constexpr int kStorageRounds = 3;

// tune_e2lsh with held-out rows (user_queries == nullptr) or the caller's sample queries;
// `build_search` builds indexes of the storage named `storage`.
template <class T, class Metric>
TuneResult tune_e2lsh_impl(const MatrixRef<T>& data, const MatrixRef<T>* user_queries,
                           const TuneOptions& options, const char* storage,
                           const SearchBuilder<T>& build_search) {
  static_assert(has_lsh_family_v<Metric>, "tune_e2lsh needs a metric E2LSHIndex supports");
  using Family = typename LshFamilyOf<Metric>::type;
  using Index = E2LSHIndex<T, Metric>;
  options.validate();
  detail::PointSet<T, Metric> checker(data.cols());
  checker.validate_rows(data, "data");
  const Eigen::Index n = data.rows();
  if (n < 5 * (options.k + 1)) {
    throw InvalidArgument(detail::concat("tuning needs more data: ", n, " rows for k = ", options.k,
                                         "; pass at least ", 5 * (options.k + 1), " rows"));
  }
  const Eigen::Index d = data.cols();
  Eigen::Index nq = std::min(options.num_queries, n / 5);
  if (user_queries != nullptr) {
    if (user_queries->rows() < 1) throw InvalidArgument("queries must hold at least one row");
    if (user_queries->cols() != d) {
      throw DimensionMismatch(
          detail::concat("queries have ", user_queries->cols(), " columns, data has ", d));
    }
    checker.validate_rows(*user_queries, "queries");
    nq = std::min(options.num_queries, user_queries->rows());
  }
  // Rows held out of the index as queries: none when the caller gives queries.
  const Eigen::Index held = user_queries != nullptr ? 0 : nq;
  const bool shortlisting = options.shortlist > 0 && !options.fixed_costs();
  const bool choosing_storage = options.choose_storage && !options.fixed_costs();
  int other_storages = -1;
  detail::for_each_storage(Storages{}, [&](const char*, std::uint8_t) { ++other_storages; });
  TuneProgress progress{
      0,
      1 + static_cast<int>(options.hash_counts.size() * options.table_collision.size()) + 1 +
          (shortlisting ? options.shortlist + kTuneRefitRuns : 0) +
          (choosing_storage ? other_storages : 0),
      "ground truth"};
  int models_left = static_cast<int>(options.hash_counts.size() * options.table_collision.size());
  // `steps` more done, `next` the stage that follows; only the last report reaches the total
  // (the shortlist may hold fewer settings than counted).
  const auto report = [&](int steps, const char* next) {
    const bool last = std::string_view(next) == "done";
    progress.done = last ? progress.total : std::min(progress.total - 1, progress.done + steps);
    progress.stage = next;
    if (options.progress) options.progress(progress);
  };
  report(0, "ground truth");

  // 1. Sample: a portable Fisher-Yates permutation; the first `held` rows are the queries.
  std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  detail::SplitMix64 rng(options.seed ^ 0x5DEECE66DULL);
  for (Eigen::Index i = n - 1; i > 0; --i) {
    std::swap(perm[static_cast<std::size_t>(i)],
              perm[static_cast<std::size_t>(rng.next() % static_cast<std::uint64_t>(i + 1))]);
  }
  Eigen::Index nb = n - held;
  if (options.max_points > 0) nb = std::min(nb, std::max(options.max_points, options.k));
  std::sort(perm.begin() + held, perm.begin() + held + nb);
  RowMatrix<T> queries(nq, d), base(nb, d);
  for (Eigen::Index i = 0; i < nq; ++i) {
    queries.row(i) = user_queries != nullptr ? user_queries->row(i)
                                             : data.row(perm[static_cast<std::size_t>(i)]);
  }
  for (Eigen::Index i = 0; i < nb; ++i)
    base.row(i) = data.row(perm[static_cast<std::size_t>(held + i)]);
  // Ground truth with the index's own metric; its time is the exact scan's.
  const auto exact_start = std::clock();
  const auto truth =
      ExactIndex<T, Metric>::borrow(base.data(), nb, d).search(queries, options.k, 1);
  const double exact_seconds = detail::seconds_since(exact_start);
  report(1, "model");
  std::vector<double> kth(static_cast<std::size_t>(nq));
  for (Eigen::Index q = 0; q < nq; ++q)
    kth[static_cast<std::size_t>(q)] = truth.distances()(q, options.k - 1);
  std::nth_element(kth.begin(), kth.begin() + nq / 2, kth.end());
  // r: the typical k-th neighbour distance (for cosine, the chord between unit vectors, which
  // the Gaussian hashes of the normalised rows see: sqrt(2 - 2 similarity)).
  for (auto& v : kth) {
    if constexpr (Metric::is_similarity) v = std::sqrt(std::max(0.0, 2.0 - 2.0 * v));
  }
  double r = kth[static_cast<std::size_t>(nq / 2)];
  if (!(r > 0)) r = std::max(1e-6, *std::max_element(kth.begin(), kth.end()));

  // 3. The hashing rows: unit rows for a normalising metric, as the index hashes them.
  RowMatrix<T> hash_base = base, hash_queries = queries;
  if constexpr (Metric::normalizes) {
    hash_base.rowwise().normalize();
    hash_queries.rowwise().normalize();
  }
  const int max_hashes = *std::max_element(options.hash_counts.begin(), options.hash_counts.end());
  const int columns = std::max(max_hashes, std::min(options.max_tables * max_hashes, 512));

  // 4. Costs on this machine, in microseconds. The hashing, lookup and entry costs are the
  // fastest of kUnitCostRounds timings of a few milliseconds: one timing each moved the entry
  // cost (a difference of two timings) by 2x from run to run, and with it the shortlist. The
  // distance cost is timed once: it is meant for rows out of cache, and its later rounds found
  // some of them cached (0.18-0.30 us a distance from run to run, against 0.29-0.37 once).
  const auto& kernels = simd::kernels<T>();
  double t_distance = 0, t_hash = 0;
  {
    T sink = 0;
    const int reps = 4000;
    const auto distances = [&] {
      for (int i = 0; i < reps; ++i) {
        const T* row =
            base.row(static_cast<Eigen::Index>((static_cast<std::uint64_t>(i) * 7919ULL) %
                                               static_cast<std::uint64_t>(nb)))
                .data();
        sink += Metric::key(kernels, row, T(1), queries.row(i % nq).data(),
                            static_cast<std::size_t>(d));
      }
    };
    const auto start = std::clock();
    distances();
    t_distance = detail::seconds_since(start) * 1e6 / reps + (sink == T(-1) ? 1 : 0);
    const detail::HashFamily<T, Family> family(d, columns, 1.0, options.seed);
    RowMatrix<T> probe_block;
    const auto hash_rows = hash_queries.topRows(std::min<Eigen::Index>(nq, 64));
    t_hash = detail::fastest_of(kUnitCostRounds, [&] { family.project(hash_rows, probe_block); }) *
             1e6 / (static_cast<double>(hash_rows.rows()) * columns);
  }
  if (options.distance_us > 0) t_distance = options.distance_us;
  if (options.hash_us > 0) t_hash = options.hash_us;
  double t_lookup = options.lookup_us > 0 ? options.lookup_us : -1;  // else timed on a table
  double t_entry = options.entry_us > 0 ? options.entry_us : -1;

  TuneResult result;
  result.typical_distance = r;
  result.indexed_points = nb;
  const double target = std::min(1.0, options.target_recall + options.recall_margin);
  double best_cost = std::numeric_limits<double>::infinity();
  double best_recall = -1;
  TuneTrial best;

  // truth_marks stamps the query's true neighbours with the walk's query number.
  std::vector<std::uint32_t> truth_marks(static_cast<std::size_t>(nb), 0);
  std::uint32_t query_stamp = 0;
  const int max_m =
      *std::max_element(options.collision_thresholds.begin(), options.collision_thresholds.end());
  detail::CandidateWalk walk;
  walk.reserve_rows(static_cast<std::size_t>(nb));
  detail::CollisionCounts timing_counts(static_cast<std::size_t>(nb));
  detail::PerturbationGenerator generator;
  detail::TableBuilder builder;
  std::vector<std::int32_t> slots(static_cast<std::size_t>(max_hashes));
  std::vector<T> below(static_cast<std::size_t>(max_hashes));
  RowMatrix<T> fq, fb;
  for (int kh : options.hash_counts) {
    const int L_max = std::min(options.max_tables, columns / kh);
    for (double rho : options.table_collision) {
      const double w = detail::width_for<Family>(r, kh, rho);
      // The hash functions an index with L_max tables of kh hashes and width w draws, and its
      // tables (the table builder E2LSHIndex::add runs).
      const typename Index::HashFunctions family(d, L_max * kh, w, options.seed);
      const auto count = static_cast<std::size_t>(nb);
      std::vector<std::uint64_t> keys(count * static_cast<std::size_t>(L_max));
      for (Eigen::Index r0 = 0; r0 < nb; r0 += 4096) {
        const Eigen::Index rows = std::min<Eigen::Index>(4096, nb - r0);
        family.project(hash_base.middleRows(r0, rows), fb);
        detail::block_table_keys(fb, L_max, kh, keys.data() + r0, count, slots.data());
      }
      const auto tables = detail::build_tables(
          keys.data(), count, 0, std::vector<detail::BucketTable>(static_cast<std::size_t>(L_max)),
          builder);
      family.project(hash_queries, fq);
      if (t_lookup < 0 || t_entry < 0) {
        // Probe generation and lookups alone, then the same with every entry counted (the
        // two in turn, each the fastest of its rounds).
        std::size_t sink = 0, lookups_done = 0, entries = 0;
        double lookups = std::numeric_limits<double>::infinity(), counted = lookups;
        for (int round = 0; round < kUnitCostRounds; ++round) {
          lookups_done = entries = 0;
          auto start = std::clock();
          for (Eigen::Index q = 0; q < nq; ++q) {
            lookups_done += static_cast<std::size_t>(detail::probe_table(
                fq.row(q).data(), 0, kh, 16, tables[0], generator, slots.data(), below.data(),
                [&](detail::BucketTable::Range b) { sink += b.size(); }));
          }
          lookups = std::min(lookups, detail::seconds_since(start));
          start = std::clock();
          for (Eigen::Index q = 0; q < nq; ++q) {
            timing_counts.next_query();
            for (int t = 0; t < std::min(L_max, 4); ++t) {
              detail::probe_table(fq.row(q).data(), t, kh, 16, tables[static_cast<std::size_t>(t)],
                                  generator, slots.data(), below.data(),
                                  [&](detail::BucketTable::Range b) {
                                    for (const std::uint32_t* p = b.begin; p != b.end; ++p) {
                                      sink += timing_counts.hit(*p) == 2;
                                    }
                                    entries += b.size();
                                  });
            }
          }
          counted = std::min(counted, detail::seconds_since(start));
        }
        // The entry cost is what counting added to the lookups timed here (not to a lookup_us
        // the caller fixed).
        const double lookup_timed =
            lookups * 1e6 / static_cast<double>(lookups_done) + (sink == 1 ? 1e-9 : 0);
        if (t_lookup < 0) t_lookup = lookup_timed;
        if (t_entry < 0) {
          const double rest =
              counted * 1e6 - lookup_timed * static_cast<double>(lookups_done) * std::min(L_max, 4);
          t_entry = std::max(rest, 0.0) / static_cast<double>(std::max<std::size_t>(entries, 1));
        }
      }
      double previous_cost = std::numeric_limits<double>::infinity();
      for (int probes : options.probe_counts) {
        if (static_cast<double>(probes) > std::pow(3.0, kh) - 1) break;
        // found/visited[m][t]: sample totals after t + 1 tables for threshold m, exactly as
        // E2LSHIndex selects candidates (CandidateWalk::select_candidates): rows with >= m
        // collisions, topped up level by level from m - 1 down while fewer than k; reach[c] counts
        // the rows with >= c collisions so far, hits[c] the true neighbours among them.
        const auto M = static_cast<std::size_t>(max_m) + 1;
        std::vector<std::vector<double>> found(
            M, std::vector<double>(static_cast<std::size_t>(L_max), 0)),
            visited(found);
        std::vector<double> probed(static_cast<std::size_t>(L_max), 0), entries(probed);
        std::vector<std::size_t> reach(M + 1), hits(M + 1);
        const auto k = static_cast<std::size_t>(options.k);
        for (Eigen::Index q = 0; q < nq; ++q) {
          if (++query_stamp == 0) {
            std::fill(truth_marks.begin(), truth_marks.end(), 0);
            query_stamp = 1;
          }
          for (Eigen::Index j = 0; j < options.k; ++j)
            truth_marks[static_cast<std::size_t>(truth.ids()(q, j))] = query_stamp;
          std::fill(reach.begin(), reach.end(), 0);
          std::fill(hits.begin(), hits.end(), 0);
          double en = 0;
          walk.begin_query();
          for (int t = 0; t < L_max; ++t) {
            walk.probe(fq.row(q).data(), t, t + 1, kh, probes);
            walk.gather(tables, 0, [&](std::uint32_t row, std::uint32_t c) {
              en += 1;
              if (c < M) {
                ++reach[c];
                hits[c] += truth_marks[row] == query_stamp;
              }
            });
            const auto ts = static_cast<std::size_t>(t);
            for (std::size_t m = 1; m < M; ++m) {
              std::size_t v = reach[m], f = hits[m];
              for (std::size_t level = m - 1; level >= 1 && v < k; --level) {
                v += reach[level] - reach[level + 1];
                f += hits[level] - hits[level + 1];
              }
              found[m][ts] += static_cast<double>(f);
              visited[m][ts] += static_cast<double>(v);
            }
            probed[ts] += static_cast<double>(walk.probed());
            entries[ts] += en;
          }
        }
        double probes_best = std::numeric_limits<double>::infinity();
        for (int m : options.collision_thresholds) {
          if (m > L_max) continue;
          const auto& fm = found[static_cast<std::size_t>(m)];
          // The fewest tables reaching the target (or all of them); never fewer than m.
          int L = L_max;
          for (int t = m - 1; t < L_max; ++t) {
            if (fm[static_cast<std::size_t>(t)] >=
                target * static_cast<double>(nq * options.k) - 1e-9) {
              L = t + 1;
              break;
            }
          }
          TuneTrial trial;
          trial.params.num_tables = L;
          trial.params.num_hashes = kh;
          trial.params.bucket_width = w;
          trial.params.num_probes = probes;
          trial.params.min_collisions = m;
          trial.params.seed = options.seed;
          const auto s = static_cast<std::size_t>(L - 1);
          trial.recall = fm[s] / static_cast<double>(nq * options.k);
          trial.mean_visited = visited[static_cast<std::size_t>(m)][s] / static_cast<double>(nq);
          trial.mean_probed = probed[s] / static_cast<double>(nq);
          trial.mean_entries = entries[s] / static_cast<double>(nq);
          trial.estimated_us = L * kh * t_hash + trial.mean_probed * t_lookup +
                               trial.mean_entries * t_entry + trial.mean_visited * t_distance;
          result.trials.push_back(trial);
          const bool reached = trial.recall >= target - 1e-12;
          if (reached && trial.estimated_us < best_cost) {
            best_cost = trial.estimated_us;
            best = trial;
          } else if (best_cost == std::numeric_limits<double>::infinity() &&
                     trial.recall > best_recall) {
            best_recall = trial.recall;
            best = trial;
          }
          if (reached) probes_best = std::min(probes_best, trial.estimated_us);
        }
        // Costs are U-shaped in the probe count: stop once the best of this count rises again.
        if (probes_best > previous_cost) break;
        if (probes_best < std::numeric_limits<double>::infinity()) previous_cost = probes_best;
      }
      report(1, --models_left > 0 ? "model" : "timing");
    }
  }

  if (result.trials.empty()) {
    throw InvalidArgument(detail::concat(
        "no setting could be tried: every collision threshold exceeds the tables a k allows (at "
        "most min(max_tables, 512 / k)) or every probe count exceeds 3^k - 1; lower "
        "collision_thresholds or probe_counts"));
  }

  // Settings within cost_tolerance of the cheapest are equal as far as the timed model can tell:
  // the one computing the fewest distances wins (distances grow with the data, lookups do not).
  if (best_cost < std::numeric_limits<double>::infinity()) {
    for (const auto& trial : result.trials) {
      if (trial.recall >= target - 1e-12 &&
          trial.estimated_us <= best_cost * (1 + options.cost_tolerance) &&
          (trial.mean_visited < best.mean_visited ||
           (trial.mean_visited == best.mean_visited && trial.estimated_us < best.estimated_us))) {
        best = trial;
      }
    }
  }

  // 5. Real indexes: the model's choice, and with timed costs its shortlist, built and timed.
  struct Measured {
    double qps = 0, recall = 0, visited = 0;
  };
  const auto per_second = [&](double seconds) {
    return static_cast<double>(nq) / std::max(seconds, 1e-9);
  };
  // The sample recall of a search's results, with its speed and candidates.
  const auto scored = [&](const Neighbors<T>& found, double seconds) {
    double hits = 0;
    for (Eigen::Index q = 0; q < nq; ++q) {
      for (Eigen::Index j = 0; j < options.k; ++j) {
        const Id id = truth.ids()(q, j);
        for (Eigen::Index c = 0; c < options.k; ++c) hits += found.ids()(q, c) == id;
      }
    }
    return Measured{per_second(seconds), hits / static_cast<double>(nq * options.k),
                    found.mean_visited()};
  };
  // With choose_storage, the fastest index so far is kept for the storage step (which times
  // the chosen setting again): one build fewer when it is the one chosen.
  std::pair<E2LSHParams, TimedSearch<T>> kept;
  double kept_qps = 0;
  // The first index timed (the model's choice) is the reference: with a shortlist, every later
  // index is timed beside a re-timing of it, and its time is scaled to the machine's speed at
  // the reference's first timing (see drift_scale). Some machines' speed drifts by 10-25 %
  // within a minute, more than the fastest settings differ: timed alone, a setting was compared
  // with others timed up to a minute apart, and the choice changed from run to run.
  TimedSearch<T> reference;
  E2LSHParams reference_params;
  double reference_first = 0, reference_last = 0;
  const auto measure = [&](const E2LSHParams& params) {
    double seconds = 0;
    auto search = build_search(params, base);
    const auto found = search(queries, options.k, seconds);  // sets seconds: before scored
    if (shortlisting && !reference) {
      reference = search;
      reference_params = params;
      reference_first = reference_last = seconds;
    } else if (reference) {
      double again = 0;
      reference(queries, options.k, again);
      seconds *= drift_scale(reference_first, reference_last, again);
      reference_last = again;
    }
    const Measured m = scored(found, seconds);
    if (choosing_storage && m.qps > kept_qps) {
      kept = {params, std::move(search)};
      kept_qps = m.qps;
    }
    return m;
  };
  Measured chosen = measure(best.params);
  report(1, "timing");
  const auto trial_of = [&](const E2LSHParams& params) -> TuneTrial* {
    for (auto& trial : result.trials) {
      if (same_setting(trial.params, params)) return &trial;
    }
    return nullptr;
  };
  if (TuneTrial* t = trial_of(best.params)) t->measured_qps = chosen.qps;
  if (best_cost < std::numeric_limits<double>::infinity() && shortlisting) {
    // The cheapest accepted settings by the model, recalibrated on the real index just timed:
    // the distance cost timed on scattered rows overstates what search pays per candidate
    // (candidates are grouped, prefetched and shared by queries), which made the model favour
    // probes over candidates and kept settings with fewer probes off the shortlist. The
    // measured time of the model's choice, less its modelled hashing and lookups, gives the
    // cost per candidate that search really pays (at most the timed one).
    const double measured_us = 1e6 / std::max(chosen.qps, 1e-9);
    const double fixed_us = best.estimated_us - best.mean_visited * t_distance;
    const double per_candidate = best.mean_visited > 0
                                     ? std::clamp((measured_us - fixed_us) / best.mean_visited,
                                                  0.05 * t_distance, t_distance)
                                     : t_distance;
    const auto calibrated = [&](const TuneTrial& trial) {
      return trial.estimated_us - trial.mean_visited * (t_distance - per_candidate);
    };
    std::vector<const TuneTrial*> cheapest;
    for (const auto& trial : result.trials) {
      if (trial.recall >= target - 1e-12) cheapest.push_back(&trial);
    }
    std::sort(cheapest.begin(), cheapest.end(), [&](const TuneTrial* a, const TuneTrial* b) {
      return calibrated(*a) < calibrated(*b);
    });
    std::vector<std::pair<TuneTrial, Measured>> runs = {{best, chosen}};
    const auto timed = [&](const TuneTrial& trial) {
      return std::any_of(runs.begin(), runs.end(), [&](const auto& run) {
        return same_setting(run.first.params, trial.params);
      });
    };
    const auto time_trial = [&](const TuneTrial& trial) {
      const Measured m = measure(trial.params);
      report(1, "timing");
      if (TuneTrial* t = trial_of(trial.params)) t->measured_qps = m.qps;
      runs.emplace_back(trial, m);
    };
    for (const TuneTrial* trial : cheapest) {
      if (static_cast<int>(runs.size()) > options.shortlist) break;
      if (!timed(*trial)) time_trial(*trial);
    }
    // The runs so far refit the model: measured time = a x (its hashing, lookups and entries)
    // + b x (its distances), least squares over every run. One factor for the candidates was
    // not enough: when the model's choice measured faster than its modelled fixed part alone,
    // the candidates came out free and the shortlist filled with settings of few lookups and
    // many candidates, leaving out the fastest one (on Fashion-MNIST, L=23 T=12 m=2, ~20% faster
    // than any shortlisted). The cheapest settings under the refit model not yet timed are
    // timed too (up to kTuneRefitRuns).
    double sxx = 0, sxy = 0, syy = 0, sxt = 0, syt = 0;
    for (const auto& [trial, m] : runs) {
      const double y = trial.mean_visited * t_distance, x = trial.estimated_us - y;
      const double measured = 1e6 / std::max(m.qps, 1e-9);
      sxx += x * x;
      sxy += x * y;
      syy += y * y;
      sxt += x * measured;
      syt += y * measured;
    }
    const double det = sxx * syy - sxy * sxy;
    const double a = det > 1e-12 * sxx * syy ? (sxt * syy - syt * sxy) / det : 0;
    const double b = det > 1e-12 * sxx * syy ? (syt * sxx - sxt * sxy) / det : 0;
    if (a > 0 && b > 0) {
      const auto refit = [&](const TuneTrial* t) {
        const double y = t->mean_visited * t_distance;
        return a * (t->estimated_us - y) + b * y;
      };
      std::sort(cheapest.begin(), cheapest.end(),
                [&](const TuneTrial* x, const TuneTrial* y) { return refit(x) < refit(y); });
      const std::size_t before = runs.size();
      for (const TuneTrial* trial : cheapest) {
        if (runs.size() == before + kTuneRefitRuns) break;
        if (!timed(*trial)) time_trial(*trial);
      }
    }
    // The fastest reaching the target; those within cost_tolerance of it tie, and the one
    // computing the fewest distances wins (as in the model's choice).
    double fastest = 0;
    for (const auto& run : runs) {
      if (run.second.recall >= target - 1e-12) fastest = std::max(fastest, run.second.qps);
    }
    for (const auto& run : runs) {
      const bool tie = run.second.recall >= target - 1e-12 &&
                       run.second.qps * (1 + options.cost_tolerance) >= fastest;
      if (tie &&
          (chosen.recall < target - 1e-12 || chosen.qps * (1 + options.cost_tolerance) < fastest ||
           run.second.visited < chosen.visited)) {
        best = run.first;
        chosen = run.second;
      }
    }
  }

  // The storage step reuses the chosen setting's index: the kept one, or else the reference's.
  if (choosing_storage && reference && !same_setting(kept.first, best.params) &&
      same_setting(reference_params, best.params)) {
    kept = {reference_params, std::move(reference)};
  }
  reference = nullptr;

  // 6. With choose_storage, the chosen setting with every storage that can hold the data (the
  // tuner's own first), timed in kStorageRounds alternating rounds: the fastest is kept (their
  // results are the same: every storage re-ranks with the exact kernels). Their indexes are
  // held together meanwhile, one per storage; the tuner's own is the one step 5 kept when it
  // is the chosen setting's.
  result.storage = storage;
  double single_qps = chosen.qps;  // the chosen index's q/s from one timing (scan_is_faster)
  if (choosing_storage) {
    struct Candidate {
      const char* name;
      TimedSearch<T> search;
      Measured fastest;  // its fastest round
      double first = 0;  // its first round's q/s: a single timing, like the exact scan's
    };
    std::vector<Candidate> candidates;
    TimedSearch<T> own = same_setting(kept.first, best.params) ? std::move(kept.second) : nullptr;
    kept = {};
    candidates.push_back({storage, own ? std::move(own) : build_search(best.params, base), {}});
    for (const auto& [name, build_other] : every_search_builder<T, Metric>()) {
      if (std::string_view(name) == storage) continue;
      try {
        candidates.push_back({name, build_other(best.params, base), {}});
      } catch (const InvalidArgument&) {  // a storage that cannot hold these rows (dimension)
      }
      report(1, "timing");
    }
    for (int round = 0; round < kStorageRounds; ++round) {
      for (auto& c : candidates) {
        double seconds = 0;
        const auto found = c.search(queries, options.k, seconds);
        if (round == 0) {
          c.fastest = scored(found, seconds);
          c.first = c.fastest.qps;
        } else {
          c.fastest.qps = std::max(c.fastest.qps, per_second(seconds));
        }
      }
      report(0, "timing");  // no step, but the callback may cancel between rounds
    }
    // The tuner's own storage sets the recall to keep: every storage returns the same results.
    chosen = candidates.front().fastest;
    single_qps = candidates.front().first;
    for (const auto& c : candidates) {
      result.storage_timings.push_back({c.name, c.fastest.qps});
      if (c.fastest.recall >= chosen.recall - 1e-12 && c.fastest.qps > chosen.qps) {
        chosen = c.fastest;
        single_qps = c.first;
        result.storage = c.name;
      }
    }
  }

  result.params = best.params;
  result.recall = chosen.recall;
  result.mean_visited = chosen.visited;
  result.visited_fraction = result.mean_visited / static_cast<double>(nb);
  result.queries_per_second = chosen.qps;
  result.reached_target = result.recall >= options.target_recall - 1e-12;
  result.exact_queries_per_second = per_second(exact_seconds);
  result.scan_is_faster = single_qps <= result.exact_queries_per_second;
  result.distance_us = t_distance;
  result.lookup_us = t_lookup;
  result.hash_us = t_hash;
  result.entry_us = t_entry;
  report(0, "done");
  return result;
}

}  // namespace detail

/// Chooses E2LSH parameters for `data` by measurement (see docs/e2lsh.md, "Tuning"):
/// 1. holds out `num_queries` random rows as queries and computes their exact k nearest
///    neighbours among the other rows (ExactIndex);
/// 2. r = median distance to the k-th neighbour; for each k in `hash_counts` and each per-table
///    collision level rho in `table_collision`, sets w so that p(r, w)^k = rho (collision
///    probability of the Gaussian family);
/// 3. hashes the sample once (one matrix product; the functions are those E2LSHIndex draws for
///    the same seed), builds up to `max_tables` tables per (k, w) and, for each probe count,
///    walks the held-out queries through the tables, counting how often each point collides
///    with the query, and records recall and candidates after every table for every collision
///    threshold m in `collision_thresholds`, so one pass gives every (L, m);
/// 4. models query time as L k d t_hash + probes t_lookup + entries t_entry + visited
///    t_distance with costs timed on this machine, and among the settings reaching the target
///    whose cost is within `cost_tolerance` of the cheapest picks the one with the fewest
///    candidates;
/// 5. builds a real E2LSHIndex for the model's choice and times its search over the sample
///    queries (one thread); from that time recalibrates the cost per candidate (never above
///    t_distance), then builds and times the `shortlist` cheapest accepted settings under the
///    recalibrated model, refits the model's two parts (fixed, candidates) to every timing by
///    least squares and times up to 3 more it then ranks cheapest, and keeps the fastest
///    reaching the target (ties within cost_tolerance: fewest distances); each setting after
///    the first is timed beside a re-timing of the first and scaled to its moment (a drifting
///    machine speed cancels); with all four unit costs fixed it keeps the model's choice, so
///    the result is reproducible;
/// 6. with `choose_storage`, times the chosen setting with every candidate storage in 3
///    alternating rounds (each keeps its fastest) and keeps the fastest storage
///    (TuneResult::storage, storage_timings);
/// 7. reports the chosen index's recall and speed and the exact scan's speed on the same
///    sample: `scan_is_faster` says when an ExactIndex is the better choice.
/// Cosine tunes on unit-normalised rows. Needs at least num_queries + k + 1 rows (fewer queries
/// are held out from small data).
///
/// `Storage` is the candidate storage the timed indexes use (FullStorage by default): tune with
/// the storage the index will have, since code storages shift the balance between probing and
/// candidates (a candidate costs less on codes). With `choose_storage` it is the storage the
/// parameters are tuned with, and the other storages are timed on its choice.
template <class T, class Metric, class Storage = detail::PointSet<T, Metric>>
TuneResult tune_e2lsh(const MatrixRef<T>& data, const TuneOptions& options = {}) {
  return detail::tune_e2lsh_impl<T, Metric>(data, nullptr, options, Storage::name,
                                            detail::search_builder<T, Metric, Storage>());
}

/// tune_e2lsh with the caller's sample queries (the first `num_queries` rows of `queries`),
/// searched against every row of `data` (or a `max_points` sample): for data whose own rows are
/// poor stand-ins for real queries, such as a database of near-duplicates, where a held-out row
/// always has a twin at distance ~0.
template <class T, class Metric, class Storage = detail::PointSet<T, Metric>>
TuneResult tune_e2lsh(const MatrixRef<T>& data, const MatrixRef<T>& queries,
                      const TuneOptions& options = {}) {
  return detail::tune_e2lsh_impl<T, Metric>(data, &queries, options, Storage::name,
                                            detail::search_builder<T, Metric, Storage>());
}

}  // namespace pstable
