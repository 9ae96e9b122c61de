#pragma once

// pstable_study's command line (CLI11): every option, its default, its check. `--k=10` and
// `--k 10` are the same; a list where one value is expected (`--k 10,20`) is refused, as are
// unknown options, missing values and values out of range.

#include <CLI/CLI.hpp>

#include "pstable/storage/traits.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace study {

struct Options {
  std::string base, base_labels, queries, query_labels;  // defaults: Fashion-MNIST (set by parse)
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
  std::string storage = "full";  // E2LSH candidate storage: a storage name, or "both"
  bool range = false;            // --radius given: every method also runs a range search
  double radius = 0;             // its radius (for cosine a similarity threshold)
  bool progress = true;
  bool show_options = false;  // print the parsed options as JSON and stop (for tests)
};

/// A check for numeric options with a clear message: a number (one, not a list) > `min`
/// (`strict`) or >= `min`.
inline CLI::Validator number_from(double min, bool strict) {
  const std::string what = std::string(strict ? "> " : ">= ") + CLI::detail::to_string(min);
  return CLI::Validator(
      [min, strict, what](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value))
          return "expects one number " + what + ", got '" + text + "'";
        if (strict ? !(value > min) : !(value >= min)) return "must be " + what + ", got " + text;
        return {};
      },
      "NUMBER" + what);
}

/// --storage's choices: every storage pstable::Storages lists, or "both".
inline std::vector<std::string> storage_choices() {
  std::vector<std::string> out{"both"};
  pstable::detail::for_each_storage(
      pstable::Storages{}, [&](const char* name, std::uint8_t) { out.emplace_back(name); });
  return out;
}

/// Declares every option of `o` on `app`; `metrics` are the accepted --metric names (the study
/// derives them from its one table of metrics).
inline void add_options(CLI::App& app, Options& o, const std::vector<std::string>& metrics) {
  app.description(
      "Runs the sequential scan and E2LSH settings over a labelled base set and prints "
      "precision@k by label, recall@k, AP@k, items visited, queries per second, overall and per "
      "class (docs/evaluation.md). Points: .npy (float16/32/64, uint8), .fvecs, or IDX images "
      "(any other name, gzip or plain). Labels: .npy (1-D integers) or IDX.");
  app.option_defaults()->always_capture_default();
  const auto list = [](CLI::Option* opt) { return opt->delimiter(',')->expected(1, -1); };
  app.add_option("--base", o.base, "the labelled database");
  app.add_option("--base-labels", o.base_labels, "labels of --base");
  app.add_option("--queries", o.queries, "the labelled queries");
  app.add_option("--query-labels", o.query_labels, "labels of --queries");
  app.add_option("--distractors", o.distractors,
                 "unlabelled items appended to the database (never relevant)");
  app.add_option("--scale", o.scale,
                 "multiply every value by S (default 1/255 for IDX inputs: pixels in [0,1]; 1 "
                 "when --base is .npy or .fvecs)");
  app.add_option("--max-queries", o.max_queries, "use the first N queries only (0 = all)")
      ->check(number_from(0, false));
  app.add_option("--class-names", o.class_names,
                 "names of the classes in the per-class table: auto, none or a,b,...");
  app.add_option("--metric", o.metric, "the distance")->check(CLI::IsMember(metrics));
  app.add_option("--k", o.k, "neighbours per query, the cut-off of every measure")
      ->check(number_from(0, true));
  app.add_option("--threads", o.threads, "search threads, 0 = all hardware threads")
      ->check(number_from(0, false));
  list(app.add_option("--tables", o.tables, "L values of the grid (comma-separated)"))
      ->check(number_from(0, true));
  list(app.add_option("--hashes", o.hashes, "k values of the grid"))->check(number_from(0, true));
  list(app.add_option("--widths", o.widths, "w values of the grid"))->check(number_from(0, true));
  list(app.add_option("--probes", o.probes, "multi-probe extra buckets per table"))
      ->check(number_from(0, false));
  app.add_option("--collisions", o.collisions,
                 "min_collisions of the grid's indexes (the tuned row uses the tuner's)")
      ->check(number_from(0, true));
  app.add_option("--seed", o.seed, "seed of the E2LSH hash functions and the tuner's sample");
  app.add_flag("--tune", o.tune,
               "tune_e2lsh's choice for --target-recall instead of the grid, searched with the "
               "tuner's probe count (or --probes)");
  app.add_flag("--grid", o.grid, "with --tune: the tuned row and the grid");
  app.add_option("--target-recall", o.target_recall, "recall the tuner aims at")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("!--no-lsh", o.lsh, "the sequential scan only");
  app.add_option("--storage", o.storage,
                 "E2LSH candidate storage: full-precision rows (full), 8-bit codes first (sq8), "
                 "4-bit codes first (sq4), or both (every storage: each E2LSH row once per "
                 "storage)")
      ->check(CLI::IsMember(storage_choices()));
  app.add_option("--radius", o.radius,
                 "also run search_radius with this radius (cosine: a similarity threshold) and "
                 "report each method's range recall against the sequential scan")
      ->each([&o](const std::string&) { o.range = true; });
  app.add_option("--csv", o.csv, "write every row, with per-class precision, as CSV");
  app.add_option("--json", o.json, "write every row, with per-class measures, as JSON");
  app.add_flag("!--quiet", o.progress, "no progress bar on stderr");
  app.add_flag("--show-options", o.show_options, "print the parsed options as JSON and exit")
      ->group("");  // hidden: for the tests
}

}  // namespace study
