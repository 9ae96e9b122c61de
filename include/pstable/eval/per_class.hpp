#pragma once

#include <map>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/eval/labels.hpp"

namespace pstable {

/// The mean of a per-query measure over the queries of one class.
struct ClassScore {
  Label label = 0;
  Eigen::Index num_queries = 0;
  double mean = 0;
};

/// Breaks a per-query measure (precision_per_query, average_precision_per_query,
/// recall_per_query, ...) down by the query's label: one ClassScore per label that occurs in
/// `query_labels`, in increasing label order. This gives the report's per-class tables.
inline std::vector<ClassScore> per_class_mean(const std::vector<double>& values,
                                              const std::vector<Label>& query_labels) {
  if (values.size() != query_labels.size()) {
    throw DimensionMismatch(detail::concat("values has ", values.size(), " entries, query_labels ",
                                           query_labels.size(), "; pass one of each per query"));
  }
  std::map<Label, std::pair<Eigen::Index, double>> sums;
  for (std::size_t q = 0; q < values.size(); ++q) {
    auto& entry = sums[query_labels[q]];
    ++entry.first;
    entry.second += values[q];
  }
  std::vector<ClassScore> scores;
  scores.reserve(sums.size());
  for (const auto& [label, entry] : sums) {
    scores.push_back({label, entry.first, entry.second / static_cast<double>(entry.first)});
  }
  return scores;
}

}  // namespace pstable
