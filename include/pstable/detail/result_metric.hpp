#pragma once

#include <string>
#include <utility>

#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"

namespace pstable::detail {

/// Throws InvalidArgument unless every metric recorded by `result` and `truth` (an empty name is
/// unknown and agrees with anything) is `Metric`, the metric the caller asked the evaluator for:
/// distances of one metric read as another give a wrong figure without any other sign.
template <class Metric, class T>
void check_result_metric(const Neighbors<T>& result, const Neighbors<T>& truth) {
  const auto agrees = [](const std::string& name) {
    return name.empty() || metric_named<Metric>(name);
  };
  if (!agrees(result.metric())) {
    throw InvalidArgument(concat("the result holds '", result.metric(),
                                 "' distances but the evaluation was asked for metric '",
                                 Metric::name, "'; pass the result's metric or none"));
  }
  if (!agrees(truth.metric())) {
    throw InvalidArgument(concat("the truth holds '", truth.metric(),
                                 "' distances but the evaluation was asked for metric '",
                                 Metric::name,
                                 "'; compute the ground truth with the metric of the result"));
  }
}

/// Calls f(Metric{}) for the metric `result` records (or, if the result records none, `truth`),
/// after check_result_metric. Throws InvalidArgument when neither records one (a result built by
/// hand: name the metric) or when they differ.
template <class T, class F>
auto with_result_metric(const Neighbors<T>& result, const Neighbors<T>& truth, F&& f) {
  const std::string& name = result.metric().empty() ? truth.metric() : result.metric();
  if (name.empty()) {
    throw InvalidArgument(
        "neither the result nor the truth records its metric (results built by hand have none); "
        "name it, e.g. recall_at_k<Euclidean>(result, truth, k)");
  }
  if (!result.metric().empty() && !truth.metric().empty() &&
      !with_metric(
          result.metric(), [&](auto m) { return metric_named<decltype(m)>(truth.metric()); },
          [] { return false; })) {
    throw InvalidArgument(concat("the result holds '", result.metric(), "' distances, the truth '",
                                 truth.metric(),
                                 "' distances; compute the ground truth with the metric of the "
                                 "result"));
  }
  return with_metric(
      name,
      [&](auto m) {
        check_result_metric<decltype(m)>(result, truth);
        return f(m);
      },
      [&]() -> decltype(f(Euclidean{})) {
        throw InvalidArgument(
            concat("the result records metric '", name, "', which is none of ", metric_names()));
      });
}

}  // namespace pstable::detail
