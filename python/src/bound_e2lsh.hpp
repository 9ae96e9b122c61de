#pragma once

// E2LSH behind the AnyIndex interface, plus the tuner binding.

#include <algorithm>
#include <string>
#include <vector>

#include "any_index.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/tuning.hpp"
#include "pstable/storage/traits.hpp"

namespace pstable::python {

/// What an E2LSH index adds to AnyIndex.
class AnyLSHIndex : public AnyIndex {
 public:
  virtual void set_num_probes(int probes) = 0;
  virtual void set_min_collisions(int m) = 0;
  virtual E2LSHParams params() const = 0;
  /// "full", "sq8" or "sq4": how candidates are scored (the Storage's name).
  virtual std::string storage() const = 0;
};

template <class T, class Metric, class Storage>
class BoundE2LSH final : public Bound<E2LSHIndex<T, Metric, Storage>, AnyLSHIndex> {
 public:
  using Bound<E2LSHIndex<T, Metric, Storage>, AnyLSHIndex>::Bound;
  std::string kind() const override { return "e2lsh"; }
  std::string storage() const override { return Storage::name; }
  py::array rows() const override {
    throw InvalidState("E2LSHIndex keeps no row matrix to pickle yet; use save()/load()");
  }
  std::uintptr_t data_address() const override { return 0; }

  void set_num_probes(int probes) override {
    std::unique_lock lock(this->mutex_);
    this->index_.set_num_probes(probes);
  }
  void set_min_collisions(int m) override {
    std::unique_lock lock(this->mutex_);
    this->index_.set_min_collisions(m);
  }
  E2LSHParams params() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.params();
  }
};

/// A parameter struct (E2LSHParams, TuneOptions) as a dict, from its field list.
template <class Params>
py::dict params_dict(const Params& p) {
  py::dict d;
  Params::for_each_field([&](const char* name, auto member, const char*) { d[name] = p.*member; });
  return d;
}

/// A parameter struct from keyword values: fields not given keep their defaults; an unknown name
/// or a value of the wrong type or range raises InvalidArgument naming the field.
template <class Params>
Params params_from(const py::dict& values) {
  Params p;
  std::size_t used = 0;
  Params::for_each_field([&](const char* name, auto member, const char*) {
    if (!values.contains(name)) return;
    ++used;
    using Field = std::decay_t<decltype(p.*member)>;
    try {
      p.*member = values[name].template cast<Field>();
    } catch (const py::cast_error&) {
      throw InvalidArgument(detail::concat(name, " got ",
                                           py::repr(values[name]).template cast<std::string>(),
                                           ", which does not fit its type"));
    }
  });
  if (used != values.size()) {
    std::vector<std::string> known;
    Params::for_each_field([&](const char* name, auto, const char*) { known.emplace_back(name); });
    for (const auto& item : values) {
      const auto name = py::str(item.first).cast<std::string>();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw InvalidArgument("unknown parameter '" + name + "'; known: " + list);
      }
    }
  }
  return p;
}

/// (name, doc) of every field, for docs and tests.
template <class Params>
py::list params_docs() {
  py::list out;
  Params::for_each_field(
      [&](const char* name, auto, const char* doc) { out.append(py::make_tuple(name, doc)); });
  return out;
}

template <class T, class Metric, class Storage>
py::dict tune_typed(const py::array& data, const py::object& queries, const TuneOptions& options) {
  const auto view = view_rows<T>(data, "data");
  TuneResult r;
  if (queries.is_none()) {
    py::gil_scoped_release release;
    r = tune_e2lsh<T, Metric, Storage>(MatrixRef<T>(view), options);
  } else {
    const auto sample = view_rows<T>(py::reinterpret_borrow<py::array>(queries), "queries");
    py::gil_scoped_release release;
    r = tune_e2lsh<T, Metric, Storage>(MatrixRef<T>(view), MatrixRef<T>(sample), options);
  }
  py::dict d;
  d["params"] = params_dict(r.params);
  d["recall"] = r.recall;
  d["mean_visited"] = r.mean_visited;
  d["visited_fraction"] = r.visited_fraction;
  d["queries_per_second"] = r.queries_per_second;
  d["typical_distance"] = r.typical_distance;
  d["reached_target"] = r.reached_target;
  d["indexed_points"] = r.indexed_points;
  d["distance_us"] = r.distance_us;
  d["lookup_us"] = r.lookup_us;
  d["hash_us"] = r.hash_us;
  d["entry_us"] = r.entry_us;
  d["exact_queries_per_second"] = r.exact_queries_per_second;
  d["scan_is_faster"] = r.scan_is_faster;
  d["storage"] = r.storage;
  py::dict timings;
  for (const auto& t : r.storage_timings) timings[py::str(t.storage)] = t.queries_per_second;
  d["storage_timings"] = timings;
  py::list trials;
  for (const auto& t : r.trials) {
    py::dict td;
    td["params"] = params_dict(t.params);
    td["recall"] = t.recall;
    td["mean_visited"] = t.mean_visited;
    td["mean_probed"] = t.mean_probed;
    td["mean_entries"] = t.mean_entries;
    td["estimated_us"] = t.estimated_us;
    td["measured_qps"] = t.measured_qps;
    trials.append(td);
  }
  d["trials"] = trials;
  return d;
}

}  // namespace pstable::python
