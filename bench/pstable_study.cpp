// pstable_study: reproduces the report's tables on real data. Runs the sequential scan and a grid
// of E2LSH settings over a labelled base set (plus unlabelled distractors), and prints precision@k
// by label (the report's "mAP"), recall@k, AP@k, mean distance or similarity, items visited and
// queries per second, overall and per class; --csv / --json write the same for bench/plot_study.py.
// Definitions: docs/evaluation.md. Run with --help for the options (study/options.hpp).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "pstable/eval/evaluation.hpp"
#include "pstable/eval/range_recall.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/metric/traits.hpp"
#include "study/dataset.hpp"
#include "study/methods.hpp"
#include "study/options.hpp"
#include "study/progress.hpp"
#include "study/report.hpp"

namespace {

const char* const kData = "/usr/share/datasets/fashion-mnist/";
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

using study::Options;

Options parse(int argc, char** argv, const std::vector<std::string>& metrics) {
  Options o;
  o.base = std::string(kData) + "train-images-idx3-ubyte.gz";
  o.base_labels = std::string(kData) + "train-labels-idx1-ubyte.gz";
  o.queries = std::string(kData) + "t10k-images-idx3-ubyte.gz";
  o.query_labels = std::string(kData) + "t10k-labels-idx1-ubyte.gz";
  CLI::App app{"", "pstable_study"};
  study::add_options(app, o, metrics);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(
        app.exit(e));  // --help: usage on stdout, 0; a bad option: the reason on stderr, non-zero
  }
  o.probes_given = app.count("--probes") > 0;
  if (o.scale < 0) {
    const bool idx = !study::ends_with(o.base, ".npy") && !study::ends_with(o.base, ".fvecs");
    o.scale = idx ? 1.0 / 255 : 1.0;
  }
  if (o.show_options) {
    const nlohmann::json shown = {{"base", o.base},
                                  {"metric", o.metric},
                                  {"k", o.k},
                                  {"max_queries", o.max_queries},
                                  {"threads", o.threads},
                                  {"tables", o.tables},
                                  {"hashes", o.hashes},
                                  {"widths", o.widths},
                                  {"probes", o.probes},
                                  {"probes_given", o.probes_given},
                                  {"collisions", o.collisions},
                                  {"seed", o.seed},
                                  {"lsh", o.lsh},
                                  {"tune", o.tune},
                                  {"grid", o.grid},
                                  {"target_recall", o.target_recall},
                                  {"storage", o.storage},
                                  {"radius", o.range ? nlohmann::json(o.radius) : nullptr},
                                  {"scale", o.scale},
                                  {"progress", o.progress},
                                  {"csv", o.csv},
                                  {"json", o.json},
                                  {"class_names", o.class_names},
                                  {"distractors", o.distractors}};
    std::cout << shown.dump() << "\n";
    std::exit(0);
  }
  return o;
}

study::Dataset load(const Options& o) {
  study::Dataset d;
  d.base = study::load_matrix(o.base, static_cast<float>(o.scale));
  d.base_labels = study::load_labels(o.base_labels);
  study::check_rows(d.base, d.base_labels.size(), o.base);
  d.queries = study::load_matrix(o.queries, static_cast<float>(o.scale));
  d.query_labels = study::load_labels(o.query_labels);
  study::check_rows(d.queries, d.query_labels.size(), o.queries);
  if (o.max_queries > 0 && o.max_queries < d.queries.rows()) {
    d.queries.conservativeResize(o.max_queries, Eigen::NoChange);
    d.query_labels.resize(static_cast<std::size_t>(o.max_queries));
  }
  if (d.queries.cols() != d.base.cols()) {
    throw pstable::DimensionMismatch(pstable::detail::concat(
        o.queries, " has ", d.queries.cols(), " values per item, ", o.base, " ", d.base.cols()));
  }
  if (!o.distractors.empty()) {
    const auto extra = study::load_matrix(o.distractors, static_cast<float>(o.scale));
    if (extra.cols() != d.base.cols()) {
      throw pstable::DimensionMismatch(pstable::detail::concat(
          o.distractors, " has ", extra.cols(), " values per item, the base ", d.base.cols(),
          "; make distractors of the same size"));
    }
    const Eigen::Index n = d.base.rows();
    d.base.conservativeResize(n + extra.rows(), Eigen::NoChange);
    d.base.bottomRows(extra.rows()) = extra;
    d.base_labels.resize(static_cast<std::size_t>(d.base.rows()), pstable::kUnlabelled);
    d.num_distractors = extra.rows();
  }
  return d;
}

std::vector<std::string> class_names(const Options& o) {
  if (o.class_names == "none") return {};
  if (o.class_names == "auto") {
    return o.base.find("fashion") != std::string::npos ? kFashionClasses
                                                       : std::vector<std::string>{};
  }
  std::vector<std::string> names;
  std::stringstream in(o.class_names);
  std::string item;
  while (std::getline(in, item, ',')) names.push_back(item);
  return names;
}

template <class Metric>
std::vector<study::Row> run_study(const Options& o, const study::Dataset& d) {
  const Eigen::Index k = o.k;
  const int threads = pstable::detail::resolve_threads(o.threads);
  std::size_t lsh_settings = 0;
  if (o.lsh) {
    if (o.tune) lsh_settings += o.probes.size();
    if (!o.tune || o.grid) {
      lsh_settings += o.tables.size() * o.hashes.size() * o.widths.size() * o.probes.size();
    }
    if (o.storage == "both") lsh_settings *= study::storage_choices().size() - 1;
  }
  study::Progress progress(static_cast<double>(d.queries.rows()) * (1 + lsh_settings), o.progress);

  const std::optional<float> radius =
      o.range ? std::optional<float>(static_cast<float>(o.radius)) : std::nullopt;
  std::vector<study::MethodRun> runs;
  runs.push_back(study::run_exact<Metric>(d.base, d.queries, k, threads, radius, progress));

  if (o.lsh && o.tune) {
    pstable::TuneOptions options;
    options.k = k;
    options.target_recall = o.target_recall;
    options.seed = o.seed;
    // Each storage is tuned with indexes of its own timed: candidates cost less on codes, so
    // the fastest setting differs.
    pstable::for_each_storage_type<float, Metric>([&](auto* tag) {
      using S = std::remove_pointer_t<decltype(tag)>;
      const char* each = S::name;
      if (o.storage != "both" && o.storage != each) return;
      progress.set_label(std::string("tuning E2LSH (") + each + ")");
      const auto tune_start = study::Clock::now();
      const auto tuned = pstable::tune_e2lsh<float, Metric, S>(d.base, options);
      const double tune_seconds = study::seconds_since(tune_start);
      std::fprintf(stderr,
                   "pstable_study: tune_e2lsh (%s) chose L=%d k=%d w=%g probes=%d m=%d in "
                   "%.1f s (recall %.3f on its held-out sample%s)\n",
                   each, tuned.params.num_tables, tuned.params.num_hashes,
                   tuned.params.bucket_width, tuned.params.num_probes, tuned.params.min_collisions,
                   tune_seconds, tuned.recall, tuned.reached_target ? "" : ", target NOT reached");
      // The tuner's own probe count, unless --probes asks for others.
      const std::vector<int> probes =
          o.probes_given && !o.grid ? o.probes : std::vector<int>{tuned.params.num_probes};
      for (auto& r : study::run_e2lsh<Metric>(d.base, d.queries, k, threads, tuned.params, probes,
                                              true, radius, each, progress)) {
        r.tune_seconds = tune_seconds;
        runs.push_back(std::move(r));
      }
    });
  }
  if (o.lsh && (!o.tune || o.grid)) {
    for (int tables : o.tables) {
      for (int hashes : o.hashes) {
        for (double width : o.widths) {
          pstable::E2LSHParams params;
          params.num_tables = tables;
          params.num_hashes = hashes;
          params.bucket_width = width;
          params.seed = o.seed;
          params.min_collisions = o.collisions;
          params.validate();
          for (auto& r : study::run_e2lsh<Metric>(d.base, d.queries, k, threads, params, o.probes,
                                                  false, radius, o.storage, progress)) {
            runs.push_back(std::move(r));
          }
        }
      }
    }
  }
  progress.finish();

  const auto& truth = runs.front().result;  // the sequential scan is the ground truth
  std::vector<study::Row> rows;
  for (const auto& run : runs) {
    study::Row row;
    row.spec = run.spec;
    row.build_seconds = run.build_seconds;
    row.tune_seconds = run.tune_seconds;
    row.cpu_queries_per_second =
        run.search_cpu_seconds > 0 ? static_cast<double>(d.queries.rows()) / run.search_cpu_seconds
                                   : 0;
    row.memory_bytes = run.memory_bytes;
    row.eval = pstable::evaluate<Metric>(run.result, truth, d.query_labels, d.base_labels, k,
                                         run.search_seconds);
    if (run.range) {
      const auto& range = *run.range;
      row.range_recall = pstable::range_recall(range, *runs.front().range);
      row.range_results_per_query =
          static_cast<double>(range.total()) / static_cast<double>(d.queries.rows());
      row.range_visited_per_query = range.mean_visited();
      row.range_cpu_queries_per_second =
          run.range_cpu_seconds > 0 ? static_cast<double>(d.queries.rows()) / run.range_cpu_seconds
                                    : 0;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

using RunStudy = std::vector<study::Row> (*)(const Options&, const study::Dataset&);

/// The metrics the study runs, by --metric name or alias: every metric of pstable::Metrics that
/// E2LSH hashes (the one list), with its canonical name.
struct MetricRun {
  std::string name;
  RunStudy run;
};

const std::map<std::string, MetricRun>& metric_runs() {
  static const std::map<std::string, MetricRun> runs = [] {
    std::map<std::string, MetricRun> out;
    std::apply(
        [&](auto... m) {
          const auto add = [&](auto tag) {
            using M = decltype(tag);
            if constexpr (pstable::has_lsh_family_v<M>) {
              out[M::name] = {M::name, &run_study<M>};
              for (const char* alias : M::aliases) out[alias] = {M::name, &run_study<M>};
            }
          };
          (add(m), ...);
        },
        pstable::Metrics{});
    return out;
  }();
  return runs;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const auto& entry : metric_runs()) names.push_back(entry.first);
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv, metric_names());
    const auto data = load(o);
    study::Setup setup;
    const MetricRun& metric = metric_runs().at(o.metric);
    setup.metric = metric.name;
    setup.base_path = o.base;
    setup.distractor_path = o.distractors;
    setup.database_size = data.base.rows();
    setup.num_distractors = data.num_distractors;
    setup.num_queries = data.queries.rows();
    setup.dim = data.base.cols();
    setup.k = o.k;
    if (o.range) setup.radius = o.radius;
    setup.threads = pstable::detail::resolve_threads(o.threads);
    setup.class_names = class_names(o);
    const auto rows = metric.run(o, data);
    study::print_tables(setup, rows);
    if (!o.csv.empty()) study::write_csv(o.csv, setup, rows);
    if (!o.json.empty()) study::write_json(o.json, setup, rows);
  } catch (const pstable::Error& e) {
    std::fprintf(stderr, "pstable_study: %s\n", e.what());
    return 1;
  }
  return 0;
}
