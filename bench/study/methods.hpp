#pragma once

// The seam between the study and the indexes: each "method" (the sequential scan, one E2LSH
// setting) is run by one function that returns the Neighbors and the time it took (wall clock and
// the process's CPU time, which load from other programs on a shared machine does not inflate).

#include <time.h>

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "pstable/core/neighbors.hpp"
#include "pstable/core/range_neighbors.hpp"
#include "pstable/index/exact.hpp"
#include "dataset.hpp"
#include "progress.hpp"

#include "pstable/index/e2lsh.hpp"
#include "pstable/index/tuning.hpp"
#include "pstable/storage/traits.hpp"

namespace study {

/// One method's settings. `exact` rows leave the LSH fields at 0.
struct MethodSpec {
  bool exact = true;
  int num_tables = 0;       // L (the report's g)
  int num_hashes = 0;       // k hashes per table (the report's h)
  double bucket_width = 0;  // w
  int num_probes = 0;
  int min_collisions = 0;  // m (E2LSHParams::min_collisions)
  bool tuned = false;
  std::string storage = "full";  // E2LSH candidate storage (pstable::Storages)

  std::string name() const {
    if (exact) return "sequential scan";
    const std::string base = tuned ? "E2LSH (tuned" : "E2LSH";
    const std::string codes = storage == "full" ? "" : (tuned ? ", " : " (") + storage;
    return base + codes + (tuned || storage != "full" ? ")" : "");
  }
};

/// What one method returned: the neighbours, search time (all queries) and build time.
struct MethodRun {
  MethodSpec spec;
  pstable::Neighbors<float> result;
  double search_seconds = 0;      ///< wall clock, all queries
  double search_cpu_seconds = 0;  ///< process CPU time (all threads), all queries
  double build_seconds = 0;
  double tune_seconds = 0;  ///< tune_e2lsh's time (tuned rows only)
  std::size_t memory_bytes = 0;
  std::optional<pstable::RangeNeighbors<float>> range;  ///< with a radius: search_radius's
  double range_cpu_seconds = 0;                         ///< process CPU time of the range search
};

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// CPU seconds used so far by the whole process (every thread).
inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Runs `search_radius` of `index` on all queries when a radius is given, timing its CPU.
template <class Index>
void run_range(const Index& index, const Matrix& queries, std::optional<float> radius, int threads,
               MethodRun& run) {
  if (!radius) return;
  const double start = cpu_seconds();
  run.range = index.search_radius(queries, *radius, threads);
  run.range_cpu_seconds = cpu_seconds() - start;
}

/// Searches the queries in chunks (so the progress bar moves), timing only the search calls.
template <class Search>
pstable::Neighbors<float> search_in_chunks(const Matrix& queries, Eigen::Index k, Search&& search,
                                           Progress& progress, double& seconds, double& cpu) {
  constexpr Eigen::Index kChunk = 512;
  pstable::Neighbors<float> all(queries.rows(), k);
  seconds = 0;
  cpu = 0;
  for (Eigen::Index q0 = 0; q0 < queries.rows(); q0 += kChunk) {
    const Eigen::Index n = std::min(kChunk, queries.rows() - q0);
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const auto part = search(queries.middleRows(q0, n));
    seconds += seconds_since(start);
    cpu += cpu_seconds() - cpu_start;
    all.ids().middleRows(q0, n) = part.ids();
    all.distances().middleRows(q0, n) = part.distances();
    all.visited().segment(q0, n) = part.visited();
    all.probed().segment(q0, n) = part.probed();
    all.set_metric(part.metric());
    progress.advance(static_cast<double>(n));
  }
  return all;
}

template <class Metric>
MethodRun run_exact(const Matrix& base, const Matrix& queries, Eigen::Index k, int threads,
                    std::optional<float> radius, Progress& progress) {
  MethodRun run;
  progress.set_label("sequential scan");
  const auto index =
      pstable::ExactIndex<float, Metric>::borrow(base.data(), base.rows(), base.cols());
  run.memory_bytes = static_cast<std::size_t>(base.size()) * sizeof(float) + index.memory_bytes();
  run.result = search_in_chunks(
      queries, k, [&](const auto& chunk) { return index.search(chunk, k, threads); }, progress,
      run.search_seconds, run.search_cpu_seconds);
  run_range(index, queries, radius, threads, run);
  return run;
}

/// Builds one E2LSH index with candidate storage `Storage` per (L, k, w) and searches it once
/// per probe count in `probes`.
template <class Metric, class Storage>
std::vector<MethodRun> run_e2lsh_with(const Matrix& base, const Matrix& queries, Eigen::Index k,
                                      int threads, const pstable::E2LSHParams& params,
                                      const std::vector<int>& probes, bool tuned,
                                      std::optional<float> radius, Progress& progress) {
  std::vector<MethodRun> runs;
  const auto build_start = Clock::now();
  pstable::E2LSHIndex<float, Metric, Storage> index(base.cols(), params);
  index.add(base);
  const double build_seconds = seconds_since(build_start);
  for (int p : probes) {
    MethodRun run;
    run.spec.exact = false;
    run.spec.tuned = tuned;
    run.spec.num_tables = params.num_tables;
    run.spec.num_hashes = params.num_hashes;
    run.spec.bucket_width = params.bucket_width;
    run.spec.num_probes = p;
    run.spec.min_collisions = params.min_collisions;
    run.spec.storage = Storage::name;
    run.build_seconds = build_seconds;
    run.memory_bytes = index.memory_bytes();
    index.set_num_probes(p);
    progress.set_label(pstable::detail::concat(
        "E2LSH L=", params.num_tables, " k=", params.num_hashes, " w=", params.bucket_width,
        " p=", p, " m=", params.min_collisions, " ", Storage::name));
    run.result = search_in_chunks(
        queries, k, [&](const auto& chunk) { return index.search(chunk, k, threads); }, progress,
        run.search_seconds, run.search_cpu_seconds);
    run_range(index, queries, radius, threads, run);
    runs.push_back(std::move(run));
  }
  return runs;
}

/// run_e2lsh_with for the storage named `storage`, or for every storage when it is "both" (one
/// after the other, each built anew).
template <class Metric>
std::vector<MethodRun> run_e2lsh(const Matrix& base, const Matrix& queries, Eigen::Index k,
                                 int threads, const pstable::E2LSHParams& params,
                                 const std::vector<int>& probes, bool tuned,
                                 std::optional<float> radius, const std::string& storage,
                                 Progress& progress) {
  std::vector<MethodRun> runs;
  pstable::for_each_storage_type<float, Metric>([&](auto* tag) {
    using S = std::remove_pointer_t<decltype(tag)>;
    if (storage != "both" && storage != S::name) return;
    for (auto& r : run_e2lsh_with<Metric, S>(base, queries, k, threads, params, probes, tuned,
                                             radius, progress)) {
      runs.push_back(std::move(r));
    }
  });
  return runs;
}

}  // namespace study
