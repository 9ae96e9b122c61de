#pragma once

// Thin bindings of pstable's readers (io/) and evaluator (eval/): numpy in, numpy or dicts out.
// Results enter the evaluator as Neighbors<double> (ids, distances and optional visited counts).

#include <string>
#include <vector>

#include "numpy_glue.hpp"
#include "pstable/pstable.hpp"

namespace pstable::python {

/// Neighbors<double> from (ids, distances[, visited]) numpy arrays (already int64 / float64,
/// C-contiguous, checked by the Python layer) and the metric the result records ("" = unknown).
inline Neighbors<double> to_neighbors(const py::array_t<Id, py::array::c_style>& ids,
                                      const py::object& distances, const py::object& visited,
                                      const std::string& metric = {}) {
  if (ids.ndim() != 2) throw InvalidArgument("ids must be 2-D (one row per query)");
  Neighbors<double> n(ids.shape(0), ids.shape(1), metric);
  std::copy(ids.data(), ids.data() + ids.size(), n.ids().data());
  if (!distances.is_none()) {
    const auto d = distances.cast<py::array_t<double, py::array::c_style>>();
    if (d.ndim() != 2 || d.shape(0) != ids.shape(0) || d.shape(1) != ids.shape(1)) {
      throw InvalidArgument("distances must have the shape of ids");
    }
    std::copy(d.data(), d.data() + d.size(), n.distances().data());
  }
  if (!visited.is_none()) {
    const auto v = visited.cast<py::array_t<std::int64_t, py::array::c_style>>();
    if (v.ndim() != 1 || v.shape(0) != ids.shape(0)) {
      throw InvalidArgument("visited must hold one count per query");
    }
    std::copy(v.data(), v.data() + v.size(), n.visited().data());
  }
  return n;
}

inline py::array_t<double> to_numpy(const std::vector<double>& v) {
  return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
}

inline py::dict class_scores(const std::vector<ClassScore>& scores) {
  py::dict d;
  for (const auto& s : scores) d[py::int_(s.label)] = s.mean;
  return d;
}

/// make(Metric{}) for the metric named `metric` (name or alias): the binding's one name -> type
/// switch, over pstable::with_metric.
template <class Make>
auto by_metric_name(const std::string& metric, Make&& make) {
  return pstable::with_metric(metric, make, [&]() -> decltype(make(Euclidean{})) {
    throw InvalidArgument("metric must be one of " + metric_names() + ", got '" + metric + "'");
  });
}

template <class T>
py::array read_rows(const std::string& path, const std::string& kind, Eigen::Index max_rows,
                    bool scale) {
  RowMatrix<T> m;
  {
    py::gil_scoped_release release;
    if (kind == "npy")
      m = read_npy<T>(path);
    else if (kind == "fvecs")
      m = read_fvecs<T>(path, max_rows);
    else if (kind == "bvecs")
      m = read_bvecs<T>(path, max_rows);
    else
      m = read_idx_images<T>(path, scale);
  }
  return adopt(std::move(m));
}

inline void bind_eval(py::module_& m) {
  m.def(
      "read_rows",
      [](const std::string& path, const std::string& kind, const std::string& dtype,
         Eigen::Index max_rows, bool scale) -> py::array {
        if (dtype == "float64") return read_rows<double>(path, kind, max_rows, scale);
        return read_rows<float>(path, kind, max_rows, scale);
      },
      py::arg("path"), py::arg("kind"), py::arg("dtype"), py::arg("max_rows"), py::arg("scale"));
  m.def("read_ivecs", [](const std::string& path, Eigen::Index max_rows) {
    RowMatrix<std::int32_t> r;
    {
      py::gil_scoped_release release;
      r = read_ivecs(path, max_rows);
    }
    return adopt(std::move(r));
  });
  m.def("read_idx_labels", [](const std::string& path) {
    std::vector<int> labels;
    {
      py::gil_scoped_release release;
      labels = read_idx_labels(path);
    }
    return py::array_t<int>(static_cast<py::ssize_t>(labels.size()), labels.data());
  });
  m.def("read_npy_labels", [](const std::string& path) {
    std::vector<std::int32_t> labels;
    {
      py::gil_scoped_release release;
      labels = read_npy_labels(path);
    }
    return py::array_t<std::int32_t>(static_cast<py::ssize_t>(labels.size()), labels.data());
  });

  m.def(
      "ground_truth",
      [](const py::array& data, const py::array& queries, Eigen::Index k, const std::string& metric,
         int num_threads) -> py::tuple {
        const auto run = [&](auto t, auto mt) -> py::tuple {
          using T = decltype(t);
          using M = decltype(mt);
          const auto d = view_rows<T>(data, "data");
          const auto q = view_rows<T>(queries, "queries");
          Neighbors<T> r;
          {
            py::gil_scoped_release release;
            r = ground_truth<T, M>(MatrixRef<T>(d), MatrixRef<T>(q), k, num_threads);
          }
          return py::make_tuple(adopt(std::move(r.ids())), adopt(std::move(r.distances())),
                                r.metric());
        };
        return by_metric_name(metric, [&](auto mt) -> py::tuple {
          if (py::isinstance<py::array_t<double>>(data)) return run(double{}, mt);
          return run(float{}, mt);
        });
      },
      py::arg("data"), py::arg("queries"), py::arg("k"), py::arg("metric"), py::arg("num_threads"));

  // metric "" = the one the result (or the truth) records; result_metric and truth_metric are
  // what the Python results record ("" = a plain tuple, unknown).
  m.def(
      "recall_per_query",
      [](const py::array_t<Id, py::array::c_style>& ids, const py::object& distances,
         const py::array_t<Id, py::array::c_style>& true_ids, const py::object& true_distances,
         Eigen::Index k, const std::string& metric, double epsilon,
         const std::string& result_metric, const std::string& truth_metric) {
        const auto r = to_neighbors(ids, distances, py::none(), result_metric);
        const auto t = to_neighbors(true_ids, true_distances, py::none(), truth_metric);
        if (metric.empty()) return to_numpy(recall_per_query(r, t, k, epsilon));
        return by_metric_name(metric, [&](auto mt) {
          return to_numpy(recall_per_query<decltype(mt)>(r, t, k, epsilon));
        });
      },
      py::arg("ids"), py::arg("distances"), py::arg("true_ids"), py::arg("true_distances"),
      py::arg("k"), py::arg("metric"), py::arg("epsilon"), py::arg("result_metric"),
      py::arg("truth_metric"));
  m.def(
      "precision_per_query",
      [](const py::array_t<Id, py::array::c_style>& ids, const std::vector<Label>& query_labels,
         const std::vector<Label>& base_labels, Eigen::Index k) {
        return to_numpy(precision_per_query(to_neighbors(ids, py::none(), py::none()), query_labels,
                                            base_labels, k));
      },
      py::arg("ids"), py::arg("query_labels"), py::arg("base_labels"), py::arg("k"));
  m.def(
      "average_precision_per_query",
      [](const py::array_t<Id, py::array::c_style>& ids, const std::vector<Label>& query_labels,
         const std::vector<Label>& base_labels, Eigen::Index k) {
        return to_numpy(average_precision_per_query(to_neighbors(ids, py::none(), py::none()),
                                                    query_labels, base_labels, k));
      },
      py::arg("ids"), py::arg("query_labels"), py::arg("base_labels"), py::arg("k"));
  m.def(
      "evaluate",
      [](const py::array_t<Id, py::array::c_style>& ids, const py::object& distances,
         const py::object& visited, const py::array_t<Id, py::array::c_style>& true_ids,
         const py::object& true_distances, const std::vector<Label>& query_labels,
         const std::vector<Label>& base_labels, Eigen::Index k, double seconds,
         const std::string& metric, double epsilon, const std::string& result_metric,
         const std::string& truth_metric) {
        const auto r = to_neighbors(ids, distances, visited, result_metric);
        const auto t = to_neighbors(true_ids, true_distances, py::none(), truth_metric);
        const Evaluation e = metric.empty()
                                 ? evaluate(r, t, query_labels, base_labels, k, seconds, epsilon)
                                 : by_metric_name(metric, [&](auto mt) {
                                     return evaluate<decltype(mt)>(r, t, query_labels, base_labels,
                                                                   k, seconds, epsilon);
                                   });
        py::dict d;
        d["k"] = e.k;
        d["precision"] = e.precision;
        d["recall"] = e.recall;
        d["average_precision"] = e.average_precision;
        d["mean_value"] = e.mean_value;
        d["mean_visited"] = e.mean_visited;
        d["visited_fraction"] = e.visited_fraction;
        d["queries_per_second"] = e.queries_per_second;
        d["precision_per_class"] = class_scores(e.precision_per_class);
        d["recall_per_class"] = class_scores(e.recall_per_class);
        d["average_precision_per_class"] = class_scores(e.average_precision_per_class);
        return d;
      },
      py::arg("ids"), py::arg("distances"), py::arg("visited"), py::arg("true_ids"),
      py::arg("true_distances"), py::arg("query_labels"), py::arg("base_labels"), py::arg("k"),
      py::arg("seconds"), py::arg("metric"), py::arg("epsilon"), py::arg("result_metric"),
      py::arg("truth_metric"));
}

}  // namespace pstable::python
