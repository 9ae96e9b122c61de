#pragma once

// The study's output: Markdown tables on stdout (the report's tables), CSV and JSON for plotting.

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pstable/core/error.hpp"
#include "pstable/eval/evaluation.hpp"
#include "methods.hpp"

namespace study {

/// One row of the study: a method's settings, timings and every measure.
struct Row {
  MethodSpec spec;
  pstable::Evaluation eval;
  double build_seconds = 0;
  double tune_seconds = 0;            ///< tuned rows: tune_e2lsh's time (not in build_seconds)
  double cpu_queries_per_second = 0;  ///< queries per CPU second of the process (all threads)
  std::size_t memory_bytes = 0;
  // With --radius: the range search's recall against the sequential scan's (range_recall), its
  // results and visited points per query, and queries per CPU second.
  std::optional<double> range_recall;
  double range_results_per_query = 0;
  double range_visited_per_query = 0;
  double range_cpu_queries_per_second = 0;
};

/// What the run was (printed above the tables and stored in the JSON).
struct Setup {
  std::string metric;
  std::string base_path;
  std::string distractor_path;
  Eigen::Index database_size = 0;
  Eigen::Index num_distractors = 0;
  Eigen::Index num_queries = 0;
  Eigen::Index dim = 0;
  Eigen::Index k = 10;
  int threads = 1;
  std::vector<std::string> class_names;
  std::optional<double> radius;  ///< --radius, when given
};

inline std::string class_name(const Setup& setup, pstable::Label label) {
  const auto i = static_cast<std::size_t>(label);
  return label >= 0 && i < setup.class_names.size() ? setup.class_names[i] : std::to_string(label);
}

inline std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

inline std::string settings(const MethodSpec& s) {
  if (s.exact) return "| - | - | - | - | - ";
  return "| " + std::to_string(s.num_tables) + " | " + std::to_string(s.num_hashes) + " | " +
         fmt("%g", s.bucket_width) + " | " + std::to_string(s.num_probes) + " | " +
         std::to_string(s.min_collisions) + " ";
}

inline void print_tables(const Setup& setup, const std::vector<Row>& rows) {
  const auto k = std::to_string(setup.k);
  const char* value = setup.metric == "cosine" ? "mean similarity" : "mean distance";
  std::printf(
      "\n%s, %ld queries, %ld searchable items (%ld distractors), dim %ld, k = %ld, "
      "%d threads\n\n",
      setup.metric.c_str(), static_cast<long>(setup.num_queries),
      static_cast<long>(setup.database_size), static_cast<long>(setup.num_distractors),
      static_cast<long>(setup.dim), static_cast<long>(setup.k), setup.threads);
  std::printf(
      "| method | L | k hashes | w | probes | m | P@%s (report's mAP) | recall@%s | AP@%s | "
      "%s | visited | visited %% | queries/s | queries/CPU-s | build s | tune s | MiB |\n",
      k.c_str(), k.c_str(), k.c_str(), value);
  std::printf(
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf(
        "| %s %s| %.3f | %.3f | %.3f | %.4g | %.0f | %.2f%% | %.0f | %.0f | %.2f | %.1f "
        "| %.1f |\n",
        r.spec.name().c_str(), settings(r.spec).c_str(), r.eval.precision, r.eval.recall,
        r.eval.average_precision, r.eval.mean_value, r.eval.mean_visited,
        100 * r.eval.visited_fraction, r.eval.queries_per_second, r.cpu_queries_per_second,
        r.build_seconds, r.tune_seconds, static_cast<double>(r.memory_bytes) / (1 << 20));
  }
  if (rows.empty()) return;
  std::printf(
      "\nP@%s per query class (the report's per-class mAP)\n\n| method | L | k hashes | w "
      "| probes | m ",
      k.c_str());
  const auto& classes = rows.front().eval.precision_per_class;
  for (const auto& c : classes) std::printf("| %s ", class_name(setup, c.label).c_str());
  std::printf("| all |\n|---|---:|---:|---:|---:|---:");
  for (std::size_t i = 0; i <= classes.size(); ++i) std::printf("|---:");
  std::printf("|\n");
  for (const auto& r : rows) {
    std::printf("| %s %s", r.spec.name().c_str(), settings(r.spec).c_str());
    for (const auto& c : r.eval.precision_per_class) std::printf("| %.3f ", c.mean);
    std::printf("| %.3f |\n", r.eval.precision);
  }
  if (setup.radius) {
    std::printf(
        "\nRange search, radius %g (%s): recall of the (query, point) pairs in range, against "
        "the sequential scan\n\n| method | L | k hashes | w | probes | m | range recall | "
        "results/query | visited | queries/CPU-s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|\n",
        *setup.radius, setup.metric == "cosine" ? "a similarity threshold" : "a distance");
    for (const auto& r : rows) {
      if (!r.range_recall) continue;
      std::printf("| %s %s| %.3f | %.1f | %.0f | %.0f |\n", r.spec.name().c_str(),
                  settings(r.spec).c_str(), *r.range_recall, r.range_results_per_query,
                  r.range_visited_per_query, r.range_cpu_queries_per_second);
    }
  }
  std::fflush(stdout);
}

inline std::ofstream open_output(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw pstable::IoError("cannot write " + path + "; check the folder exists");
  return out;
}

inline void write_csv(const std::string& path, const Setup& setup, const std::vector<Row>& rows) {
  auto out = open_output(path);
  out << "method,storage,metric,num_tables,num_hashes,bucket_width,num_probes,min_collisions,k,"
         "precision,"
         "recall,"
         "average_precision,mean_value,mean_visited,visited_fraction,queries_per_second,"
         "cpu_queries_per_second,build_seconds,tune_seconds,memory_bytes,num_queries,database_size,"
         "num_distractors,radius,range_recall,range_results_per_query,range_visited_per_query,"
         "range_cpu_queries_per_second";
  if (!rows.empty()) {
    for (const auto& c : rows.front().eval.precision_per_class)
      out << ",precision_class_" << c.label;
  }
  out << "\n";
  out.precision(8);
  for (const auto& r : rows) {
    out << (r.spec.exact   ? "exact"
            : r.spec.tuned ? "e2lsh_tuned"
                           : "e2lsh")
        << ',' << (r.spec.exact ? "" : r.spec.storage) << ',' << setup.metric << ','
        << r.spec.num_tables << ',' << r.spec.num_hashes << ',' << r.spec.bucket_width << ','
        << r.spec.num_probes << ',' << r.spec.min_collisions << ',' << setup.k << ','
        << r.eval.precision << ',' << r.eval.recall << ',' << r.eval.average_precision << ','
        << r.eval.mean_value << ',' << r.eval.mean_visited << ',' << r.eval.visited_fraction << ','
        << r.eval.queries_per_second << ',' << r.cpu_queries_per_second << ',' << r.build_seconds
        << ',' << r.tune_seconds << ',' << r.memory_bytes << ',' << setup.num_queries << ','
        << setup.database_size << ',' << setup.num_distractors << ',';
    if (setup.radius) out << *setup.radius;  // empty fields without --radius
    out << ',';
    if (r.range_recall) {
      out << *r.range_recall << ',' << r.range_results_per_query << ',' << r.range_visited_per_query
          << ',' << r.range_cpu_queries_per_second;
    } else {
      out << ",,,";  // four empty fields
    }
    for (const auto& c : r.eval.precision_per_class) out << ',' << c.mean;
    out << "\n";
  }
  if (!out) throw pstable::IoError("writing " + path + " failed");
}

/// The JSON file bench/plot_study.py reads (nlohmann-json: strings escaped, control characters
/// included; a measure that is NaN or infinite, e.g. a mean over no query, is written as null).
inline nlohmann::json to_json(const Setup& setup, const std::vector<Row>& rows) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json per_class = nlohmann::json::array();
    for (std::size_t c = 0; c < r.eval.precision_per_class.size(); ++c) {
      const auto label = r.eval.precision_per_class[c].label;
      per_class.push_back({{"label", label},
                           {"name", class_name(setup, label)},
                           {"queries", r.eval.precision_per_class[c].num_queries},
                           {"precision", r.eval.precision_per_class[c].mean},
                           {"recall", r.eval.recall_per_class[c].mean},
                           {"average_precision", r.eval.average_precision_per_class[c].mean}});
    }
    runs.push_back(
        {{"method", r.spec.exact   ? "exact"
                    : r.spec.tuned ? "e2lsh_tuned"
                                   : "e2lsh"},
         {"storage", r.spec.exact ? nlohmann::json(nullptr) : nlohmann::json(r.spec.storage)},
         {"num_tables", r.spec.num_tables},
         {"num_hashes", r.spec.num_hashes},
         {"bucket_width", r.spec.bucket_width},
         {"num_probes", r.spec.num_probes},
         {"min_collisions", r.spec.min_collisions},
         {"precision", r.eval.precision},
         {"recall", r.eval.recall},
         {"average_precision", r.eval.average_precision},
         {"mean_value", r.eval.mean_value},
         {"mean_visited", r.eval.mean_visited},
         {"visited_fraction", r.eval.visited_fraction},
         {"queries_per_second", r.eval.queries_per_second},
         {"cpu_queries_per_second", r.cpu_queries_per_second},
         {"build_seconds", r.build_seconds},
         {"tune_seconds", r.tune_seconds},
         {"memory_bytes", r.memory_bytes},
         {"range_recall", r.range_recall ? nlohmann::json(*r.range_recall) : nullptr},
         {"range_results_per_query", r.range_results_per_query},
         {"range_visited_per_query", r.range_visited_per_query},
         {"range_cpu_queries_per_second", r.range_cpu_queries_per_second},
         {"per_class", std::move(per_class)}});
  }
  return {{"setup",
           {{"metric", setup.metric},
            {"base", setup.base_path},
            {"distractors", setup.distractor_path},
            {"database_size", setup.database_size},
            {"num_distractors", setup.num_distractors},
            {"num_queries", setup.num_queries},
            {"dim", setup.dim},
            {"k", setup.k},
            {"radius", setup.radius ? nlohmann::json(*setup.radius) : nullptr},
            {"threads", setup.threads}}},
          {"runs", std::move(runs)}};
}

inline void write_json(const std::string& path, const Setup& setup, const std::vector<Row>& rows) {
  auto out = open_output(path);
  // Invalid UTF-8 in a path is replaced (U+FFFD) rather than aborting the whole report.
  out << to_json(setup, rows).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!out) throw pstable::IoError("writing " + path + " failed");
}

}  // namespace study
