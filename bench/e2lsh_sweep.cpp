// E2LSH on Fashion-MNIST (pixels scaled to [0, 1]): tuner, build, recall@10 against the exact
// scan, visited share, single-thread queries per second and memory, for the tuned parameters and
// a few fixed ones. Prints a table, and "RESULT key=value ..." lines for bench/compare_lsh.py.
//
// Usage: e2lsh_sweep [--data DIR] [--queries N] [--no-tune] [--no-sweep]
//                    [--params L,k,w,T[,m]]...   (extra fixed settings; m = min_collisions)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/index/tuning.hpp"
#include "pstable/io/idx.hpp"
#include "pstable/storage/traits.hpp"

using namespace pstable;

namespace {

// The machine is shared: times are this thread's CPU seconds, which load does not inflate.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double since(double t) { return cpu_now() - t; }

struct Row {
  std::string name;
  E2LSHParams params;
  double build_s, recall, visited_fraction, qps, memory_mb;
  double single_us;  ///< CPU microseconds per search call of one query (0: not measured)
};

/// How many queries are also searched one per call (--single).
Eigen::Index g_single = 0;

double recall_at(const Neighbors<float>& got, const Neighbors<float>& truth) {
  double hits = 0;
  for (Eigen::Index q = 0; q < truth.num_queries(); ++q) {
    for (Eigen::Index j = 0; j < truth.k(); ++j) {
      for (Eigen::Index c = 0; c < got.k(); ++c) hits += got.ids()(q, c) == truth.ids()(q, j);
    }
  }
  return hits / static_cast<double>(truth.ids().size());
}

template <class Storage>
Row measure_with(const std::string& name, const E2LSHParams& params, const RowMatrix<float>& base,
                 const RowMatrix<float>& queries, const Neighbors<float>& truth) {
  Row row{name + "/" + Storage::name, params, 0, 0, 0, 0, 0, 0};
  auto t = cpu_now();
  E2LSHIndex<float, Euclidean, Storage> index(base.cols(), params);
  index.add(base);
  row.build_s = since(t);
  t = cpu_now();
  const auto got = index.search(queries, truth.k(), 1);
  row.qps = static_cast<double>(queries.rows()) / since(t);
  row.recall = recall_at(got, truth);
  row.visited_fraction = got.mean_visited() / static_cast<double>(base.rows());
  row.memory_mb = static_cast<double>(index.memory_bytes()) / 1e6;
  const Eigen::Index single = std::min(g_single, queries.rows());
  if (single > 0) {
    t = cpu_now();
    for (Eigen::Index q = 0; q < single; ++q) {
      const auto one = index.search(queries.middleRows(q, 1), truth.k(), 1);
      if (one.ids()(0, 0) == -2) std::puts("");  // keeps the call
    }
    row.single_us = 1e6 * since(t) / static_cast<double>(single);
  }
  return row;
}

/// The storage --storage names ("full", "sq8", ...), or every storage for "both", measured one
/// after the other.
std::vector<Row> measure(const std::string& storage, const std::string& name,
                         const E2LSHParams& params, const RowMatrix<float>& base,
                         const RowMatrix<float>& queries, const Neighbors<float>& truth) {
  std::vector<Row> rows;
  for_each_storage_type<float, Euclidean>([&](auto* tag) {
    using S = std::remove_pointer_t<decltype(tag)>;
    if (storage == "both" || storage == S::name)
      rows.push_back(measure_with<S>(name, params, base, queries, truth));
  });
  return rows;
}

void print(const Row& r) {
  std::printf(
      "| %-22s | %3d | %3d | %6.2f | %4d | %2d | %8.3f | %7.2f%% | %8.0f | %8.0f | %7.2f | %8.1f "
      "|\n",
      r.name.c_str(), r.params.num_tables, r.params.num_hashes, r.params.bucket_width,
      r.params.num_probes, r.params.min_collisions, r.recall, 100 * r.visited_fraction, r.qps,
      r.single_us, r.build_s, r.memory_mb);
  std::printf(
      "RESULT name=%s L=%d k=%d w=%.4f T=%d m=%d recall=%.4f visited=%.5f qps=%.1f build_s=%.3f "
      "memory_mb=%.1f single_us=%.1f\n",
      r.name.c_str(), r.params.num_tables, r.params.num_hashes, r.params.bucket_width,
      r.params.num_probes, r.params.min_collisions, r.recall, r.visited_fraction, r.qps, r.build_s,
      r.memory_mb, r.single_us);
}

/// One --params value, "L,k,w,T[,m]": four or five numbers, nothing else.
E2LSHParams parse_params(const std::string& text) {
  std::vector<std::string> fields;
  std::size_t from = 0;
  for (std::size_t comma; (comma = text.find(',', from)) != std::string::npos; from = comma + 1) {
    fields.push_back(text.substr(from, comma - from));
  }
  fields.push_back(text.substr(from));
  E2LSHParams p;
  const bool ok = (fields.size() == 4 || fields.size() == 5) &&
                  CLI::detail::lexical_cast(fields[0], p.num_tables) &&
                  CLI::detail::lexical_cast(fields[1], p.num_hashes) &&
                  CLI::detail::lexical_cast(fields[2], p.bucket_width) &&
                  CLI::detail::lexical_cast(fields[3], p.num_probes) &&
                  (fields.size() == 4 || CLI::detail::lexical_cast(fields[4], p.min_collisions));
  if (!ok)
    throw CLI::ValidationError("--params", "expects L,k,w,T[,m] (numbers), got '" + text + "'");
  p.validate();  // pstable::InvalidArgument names the bad field
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/usr/share/datasets/fashion-mnist";
  Eigen::Index num_queries = 1000;
  bool tune = true, sweep = true;
  std::string storage = "full";
  std::vector<std::string> params_text;
  CLI::App app{
      "E2LSH on Fashion-MNIST: the tuner's choice and fixed settings against the exact scan",
      "e2lsh_sweep"};
  app.option_defaults()->always_capture_default();
  app.add_option("--data", dir, "directory of Fashion-MNIST's IDX files")
      ->check(CLI::ExistingDirectory);
  app.add_option("--queries", num_queries, "number of t10k queries")
      ->check(CLI::Range(Eigen::Index{1}, Eigen::Index{1} << 40));
  app.add_flag("!--no-tune", tune, "skip the tuner");
  app.add_flag("!--no-sweep", sweep, "skip the fixed settings");
  app.add_option("--single", g_single,
                 "also time this many queries searched one per call (us per call, CPU time)")
      ->check(CLI::Range(Eigen::Index{0}, Eigen::Index{1} << 40));
  std::vector<std::string> storages{"both"};
  detail::for_each_storage(Storages{},
                           [&](const char* name, std::uint8_t) { storages.emplace_back(name); });
  app.add_option("--storage", storage,
                 "candidate storage: full-precision rows (full), 8-bit codes (sq8), 4-bit codes "
                 "(sq4), or both: every storage")
      ->check(CLI::IsMember(storages));
  app.add_option("--params", params_text,
                 "an extra fixed setting L,k,w,T[,m] (m = min_collisions); repeatable")
      ->allow_extra_args(false);
  std::vector<E2LSHParams> extra;
  try {
    app.parse(argc, argv);
    for (const auto& text : params_text) extra.push_back(parse_params(text));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pstable::InvalidArgument& e) {
    std::fprintf(stderr, "e2lsh_sweep: --params: %s\n", e.what());
    return 2;
  }
  const RowMatrix<float> base = read_idx_images<float>(dir + "/train-images-idx3-ubyte.gz");
  RowMatrix<float> queries = read_idx_images<float>(dir + "/t10k-images-idx3-ubyte.gz");
  if (num_queries >= 0 && num_queries < queries.rows()) {
    queries.conservativeResize(num_queries, Eigen::NoChange);
  }
  std::printf(
      "Fashion-MNIST: %ld base x %ld dims, %ld queries (t10k), k = 10, one thread, times in thread "
      "CPU seconds, kernels %s\n",
      static_cast<long>(base.rows()), static_cast<long>(base.cols()),
      static_cast<long>(queries.rows()), simd::kernels<float>().arch);

  auto t = cpu_now();
  const auto exact = ExactIndex<float, Euclidean>::borrow(base.data(), base.rows(), base.cols());
  const auto truth = exact.search(queries, 10, 1);
  const double exact_qps = static_cast<double>(queries.rows()) / since(t);
  std::printf("exact scan (GEMM batch): %.0f q/s\n", exact_qps);
  std::printf("RESULT name=exact qps=%.1f\n", exact_qps);

  std::printf("\n| %-22s | %3s | %3s | %6s | %4s | %2s | %8s | %8s | %8s | %8s | %7s | %8s |\n",
              "setting", "L", "k", "w", "T", "m", "recall10", "visited", "q/s", "us/call1",
              "build s", "memory MB");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  if (tune) {
    // Each storage is tuned with indexes of its own timed (candidates cost less on codes).
    for_each_storage_type<float, Euclidean>([&](auto* tag) {
      using S = std::remove_pointer_t<decltype(tag)>;
      const char* each = S::name;
      if (storage != "both" && storage != each) return;
      t = cpu_now();
      const TuneResult tuned = tune_e2lsh<float, Euclidean, S>(base);
      const double tune_s = since(t);
      std::printf(
          "tuner (%s): %.1f s, chose L=%d k=%d w=%.2f T=%d m=%d; on its held-out sample: "
          "recall %.3f, visited %.2f%%, %.0f q/s (r10 = %.2f, %zu trials)\n",
          each, tune_s, tuned.params.num_tables, tuned.params.num_hashes, tuned.params.bucket_width,
          tuned.params.num_probes, tuned.params.min_collisions, tuned.recall,
          100 * tuned.visited_fraction, tuned.queries_per_second, tuned.typical_distance,
          tuned.trials.size());
      std::printf("RESULT name=tuner/%s seconds=%.2f sample_recall=%.4f sample_visited=%.5f\n",
                  each, tune_s, tuned.recall, tuned.visited_fraction);
      std::printf(
          "tuner cost model: distance %.3f us, lookup %.3f us, entry %.4f us, hash %.4f "
          "us\n",
          tuned.distance_us, tuned.lookup_us, tuned.entry_us, tuned.hash_us);
      auto trials = tuned.trials;
      std::sort(trials.begin(), trials.end(), [](const TuneTrial& a, const TuneTrial& b) {
        return a.estimated_us < b.estimated_us;
      });
      int shown = 0;
      for (const auto& tr : trials) {
        if (tr.recall < 0.9 || ++shown > 25) continue;
        std::printf(
            "  trial L=%2d k=%2d w=%6.2f T=%3d m=%d recall %.3f visited %6.0f probed %6.0f "
            "entries %6.0f est %7.1f us measured %6.0f q/s\n",
            tr.params.num_tables, tr.params.num_hashes, tr.params.bucket_width,
            tr.params.num_probes, tr.params.min_collisions, tr.recall, tr.mean_visited,
            tr.mean_probed, tr.mean_entries, tr.estimated_us, tr.measured_qps);
      }
      print(measure_with<S>("tuned", tuned.params, base, queries, truth));
    });
  }
  for (const auto& p : extra) {
    for (const Row& r : measure(storage, "given", p, base, queries, truth)) print(r);
  }
  if (sweep) {
    const E2LSHParams fixed[] = {{20, 8, 16.0, 0, 1},
                                 {10, 8, 16.0, 0, 1},
                                 {10, 12, 12.0, 30, 1},
                                 {20, 16, 14.0, 30, 1},
                                 {10, 16, 14.0, 60, 1}};
    for (const auto& p : fixed) {
      for (const Row& r : measure(storage, "notes table", p, base, queries, truth)) print(r);
    }
  }
  return 0;
}
