// pstable_study: reproduces the report's tables on real data. Runs the sequential scan and a grid
// of E2LSH settings over a labelled base set (plus unlabelled distractors), and prints precision@k
// by label (the report's "mAP"), recall@k, AP@k, mean distance or similarity, items visited and
// queries per second, overall and per class; --csv / --json write the same for bench/plot_study.py.
// Definitions: docs/evaluation.md. Run with --help for the options.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "pstable/eval/evaluation.hpp"
#include "pstable/metric/traits.hpp"
#include "study/dataset.hpp"
#include "study/methods.hpp"
#include "study/progress.hpp"
#include "study/report.hpp"

namespace {

const char* const kData = "/usr/share/datasets/fashion-mnist/";
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                  "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

struct Options {
  std::string base = std::string(kData) + "train-images-idx3-ubyte.gz";
  std::string base_labels = std::string(kData) + "train-labels-idx1-ubyte.gz";
  std::string queries = std::string(kData) + "t10k-images-idx3-ubyte.gz";
  std::string query_labels = std::string(kData) + "t10k-labels-idx1-ubyte.gz";
  std::string distractors;
  std::string metric = "euclidean";
  std::string class_names = "auto";
  std::string csv, json;
  double scale = -1;  // < 0: 1/255 for IDX bases, 1 otherwise
  long k = 10;
  long max_queries = 0;
  int threads = 0;
  std::vector<int> tables = {3, 5, 7};
  std::vector<int> hashes = {2, 4, 6};
  std::vector<double> widths = {4, 6, 8};
  std::vector<int> probes = {0};
  bool probes_given = false;
  int collisions = 1;  // min_collisions of the grid (the tuned row uses the tuner's)
  std::uint64_t seed = 1;
  bool lsh = true;
  bool tune = false;
  bool grid = false;  // with --tune: run the grid too
  double target_recall = 0.9;
  bool progress = true;
};

const char* const kUsage = R"(usage: pstable_study [options]

Data (default Fashion-MNIST train as base, t10k as queries). Points: .npy (float16/32/64, uint8),
.fvecs, or IDX images (any other name, gzip or plain). Labels: .npy (1-D integers) or IDX:
  --base FILE --base-labels FILE       the labelled database
  --queries FILE --query-labels FILE   the labelled queries
  --distractors FILE                   unlabelled items appended to the database (never relevant)
  --scale S                            multiply every value by S (default 1/255 for IDX inputs:
                                       pixels in [0,1]; 1 when --base is .npy or .fvecs)
  --max-queries N                      use the first N queries only (default all)
  --class-names auto|none|a,b,...      names of the classes in the per-class table
Search:
  --metric euclidean|cosine|manhattan  (default euclidean; aliases l2, l1)
  --k K                                neighbours per query, the cut-off of every measure (10)
  --threads N                          search threads, 0 = all hardware threads (0)
  --tables 3,5,7 --hashes 2,4,6 --widths 4,6,8 --probes 0
                                       the E2LSH grid: L, k hashes per table, w, multi-probe counts
  --collisions M                       min_collisions of the grid's indexes (1; the tuned row uses
                                       the tuner's)
  --seed S                             seed of the E2LSH hash functions and the tuner's sample (1)
  --tune [--target-recall R]           instead of the grid: tune_e2lsh's choice for recall R (0.9),
                                       searched with the tuner's probe count (or --probes)
  --tune --grid                        the tuned row and the grid (its probes: --probes, default 0)
  --no-lsh                             the sequential scan only
Output:
  --csv FILE --json FILE               every row, with per-class precision, for bench/plot_study.py
  --quiet                              no progress bar on stderr
)";

template <class T>
std::vector<T> parse_list(const std::string& text, const std::string& flag) {
  std::vector<T> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::stringstream field(item);
    T v{};
    if (!(field >> v) || !field.eof()) {
      throw pstable::InvalidArgument(flag + " expects a comma-separated list of numbers, got '" +
                                     text + "'");
    }
    values.push_back(v);
  }
  if (values.empty()) throw pstable::InvalidArgument(flag + " needs at least one value");
  return values;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw pstable::InvalidArgument(flag + " needs a value; see --help");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--base") o.base = next();
    else if (flag == "--base-labels") o.base_labels = next();
    else if (flag == "--queries") o.queries = next();
    else if (flag == "--query-labels") o.query_labels = next();
    else if (flag == "--distractors") o.distractors = next();
    else if (flag == "--scale") o.scale = parse_list<double>(next(), flag).at(0);
    else if (flag == "--max-queries") o.max_queries = parse_list<long>(next(), flag).at(0);
    else if (flag == "--class-names") o.class_names = next();
    else if (flag == "--metric") o.metric = next();
    else if (flag == "--k") o.k = parse_list<long>(next(), flag).at(0);
    else if (flag == "--threads") o.threads = parse_list<int>(next(), flag).at(0);
    else if (flag == "--tables") o.tables = parse_list<int>(next(), flag);
    else if (flag == "--hashes") o.hashes = parse_list<int>(next(), flag);
    else if (flag == "--widths") o.widths = parse_list<double>(next(), flag);
    else if (flag == "--probes") {
      o.probes = parse_list<int>(next(), flag);
      o.probes_given = true;
    } else if (flag == "--collisions") o.collisions = parse_list<int>(next(), flag).at(0);
    else if (flag == "--seed") o.seed = parse_list<std::uint64_t>(next(), flag).at(0);
    else if (flag == "--tune") o.tune = true;
    else if (flag == "--grid") o.grid = true;
    else if (flag == "--target-recall") o.target_recall = parse_list<double>(next(), flag).at(0);
    else if (flag == "--no-lsh") o.lsh = false;
    else if (flag == "--csv") o.csv = next();
    else if (flag == "--json") o.json = next();
    else if (flag == "--quiet") o.progress = false;
    else throw pstable::InvalidArgument("unknown option " + flag + "; see --help");
  }
  // Canonical name of any metric E2LSH supports (aliases such as l1, l2 accepted).
  o.metric = pstable::with_metric(
      o.metric,
      [&](auto m) -> std::string {
        if constexpr (pstable::has_lsh_family_v<decltype(m)>) {
          return decltype(m)::name;
        } else {
          throw pstable::InvalidArgument("--metric must be euclidean, cosine or manhattan, got " + o.metric);
        }
      },
      [&]() -> std::string {
        throw pstable::InvalidArgument("--metric must be euclidean, cosine or manhattan, got " + o.metric);
      });
  if (o.scale < 0) {
    const bool idx = !study::ends_with(o.base, ".npy") && !study::ends_with(o.base, ".fvecs");
    o.scale = idx ? 1.0 / 255 : 1.0;
  }
  if (o.max_queries < 0) throw pstable::InvalidArgument("--max-queries must be >= 0");
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
  }
  study::Progress progress(static_cast<double>(d.queries.rows()) * (1 + lsh_settings), o.progress);

  std::vector<study::MethodRun> runs;
  runs.push_back(study::run_exact<Metric>(d.base, d.queries, k, threads, progress));

  if (o.lsh && o.tune) {
    pstable::TuneOptions options;
    options.k = k;
    options.target_recall = o.target_recall;
    options.seed = o.seed;
    progress.set_label("tuning E2LSH");
    const auto tune_start = study::Clock::now();
    const auto tuned = pstable::tune_e2lsh<float, Metric>(d.base, options);
    const double tune_seconds = study::seconds_since(tune_start);
    std::fprintf(stderr,
                 "pstable_study: tune_e2lsh chose L=%d k=%d w=%g probes=%d m=%d in %.1f s (recall "
                 "%.3f on its held-out sample%s)\n",
                 tuned.params.num_tables, tuned.params.num_hashes, tuned.params.bucket_width,
                 tuned.params.num_probes, tuned.params.min_collisions, tune_seconds, tuned.recall,
                 tuned.reached_target ? "" : ", target NOT reached");
    // The tuner's own probe count, unless --probes asks for others.
    const std::vector<int> probes =
        o.probes_given && !o.grid ? o.probes : std::vector<int>{tuned.params.num_probes};
    for (auto& r : study::run_e2lsh<Metric>(d.base, d.queries, k, threads, tuned.params, probes,
                                            true, progress)) {
      r.tune_seconds = tune_seconds;
      runs.push_back(std::move(r));
    }
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
                                                  false, progress)) {
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
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const auto data = load(o);
    study::Setup setup;
    setup.metric = o.metric;
    setup.base_path = o.base;
    setup.distractor_path = o.distractors;
    setup.database_size = data.base.rows();
    setup.num_distractors = data.num_distractors;
    setup.num_queries = data.queries.rows();
    setup.dim = data.base.cols();
    setup.k = o.k;
    setup.threads = pstable::detail::resolve_threads(o.threads);
    setup.class_names = class_names(o);
    const auto rows = pstable::with_metric(
        o.metric,
        [&](auto m) -> std::vector<study::Row> {
          if constexpr (pstable::has_lsh_family_v<decltype(m)>) {
            return run_study<decltype(m)>(o, data);
          } else {
            return {};
          }
        },
        [] { return std::vector<study::Row>{}; });
    study::print_tables(setup, rows);
    if (!o.csv.empty()) study::write_csv(o.csv, setup, rows);
    if (!o.json.empty()) study::write_json(o.json, setup, rows);
  } catch (const pstable::Error& e) {
    std::fprintf(stderr, "pstable_study: %s\n", e.what());
    return 1;
  }
  return 0;
}
