#pragma once

// E2LSH behind the AnyIndex interface, plus the tuner binding.

#include <algorithm>
#include <string>
#include <vector>

#include "any_index.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/tuning.hpp"

namespace pstable::python {

/// What an E2LSH index adds to AnyIndex.
class AnyLSHIndex : public AnyIndex {
 public:
  /// (ids, distances, visited, probed). `allowed` is None or a 1-D C-contiguous bool array over
  /// ids: only ids with allowed[id] true (and id < len(allowed)) are returned.
  virtual py::tuple search_lsh(const py::array& queries, Eigen::Index k, int num_threads,
                               const py::object& allowed) const = 0;
  /// Removes every id or none: all are checked (present, not removed, no repeats) first.
  virtual void remove(const std::vector<Id>& ids) = 0;
  virtual void compact() = 0;
  virtual void set_num_probes(int probes) = 0;
  virtual void set_min_collisions(int m) = 0;
  virtual E2LSHParams params() const = 0;
  virtual bool contains(Id id) const = 0;
  virtual Eigen::Index num_removed() const = 0;
  virtual Id next_id() const = 0;
};

template <class T, class Metric>
class BoundE2LSH final : public Bound<E2LSHIndex<T, Metric>, AnyLSHIndex> {
 public:
  using Bound<E2LSHIndex<T, Metric>, AnyLSHIndex>::Bound;
  std::string kind() const override { return "e2lsh"; }
  bool owns_data() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.owns_data();
  }

  py::array rows() const override {
    throw InvalidState("E2LSHIndex keeps no row matrix to pickle yet; use save()/load()");
  }
  std::uintptr_t data_address() const override { return 0; }

  py::tuple search_lsh(const py::array& queries, Eigen::Index k, int num_threads,
                       const py::object& allowed) const override {
    const auto view = view_rows<T>(queries, "queries");
    const bool* mask = nullptr;
    Id mask_size = 0;
    if (!allowed.is_none()) {
      const auto a = py::reinterpret_borrow<py::array>(allowed);
      if (!py::isinstance<py::array_t<bool, py::array::c_style>>(a) || a.ndim() != 1) {
        throw py::type_error("allowed must be a 1-D C-contiguous bool array over ids");
      }
      mask = static_cast<const bool*>(a.data());
      mask_size = static_cast<Id>(a.shape(0));
    }
    Neighbors<T> result;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      const MatrixRef<T> ref(view);
      const typename AnyIndex::ActiveCall active(*this, ref.data());
      if (mask == nullptr) {
        result = this->index_.search(ref, k, num_threads);
      } else {
        // Reads only: safe from the worker threads.
        const auto keep = [mask, mask_size](Id id) { return id < mask_size && mask[id]; };
        result = this->index_.search_filtered(ref, k, keep, num_threads);
      }
    }
    return py::make_tuple(adopt(std::move(result.ids())), adopt(std::move(result.distances())),
                          adopt(std::move(result.visited())), adopt(std::move(result.probed())));
  }

  void remove(const std::vector<Id>& ids) override {
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    std::vector<Id> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (!this->index_.contains(sorted[i])) {
        // remove() of a missing id throws the index's own message before changing anything,
        // and nothing has been removed yet.
        this->index_.remove(sorted[i]);
      }
      if (i > 0 && sorted[i] == sorted[i - 1]) {
        throw InvalidArgument(detail::concat(
            "id ", sorted[i], " appears twice in the ids to remove; pass each once"));
      }
    }
    for (const Id id : ids) this->index_.remove(id);
  }
  void compact() override {
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    this->index_.compact();
  }
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
  bool contains(Id id) const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.contains(id);
  }
  Eigen::Index num_removed() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.num_removed();
  }
  Id next_id() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.next_id();
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

template <class T, class Metric>
py::dict tune_typed(const py::array& data, const TuneOptions& options) {
  const auto view = view_rows<T>(data, "data");
  TuneResult r;
  {
    py::gil_scoped_release release;
    r = tune_e2lsh<T, Metric>(MatrixRef<T>(view), options);
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
  py::list trials;
  for (const auto& t : r.trials) {
    py::dict td;
    td["params"] = params_dict(t.params);
    td["recall"] = t.recall;
    td["mean_visited"] = t.mean_visited;
    td["mean_probed"] = t.mean_probed;
    td["mean_entries"] = t.mean_entries;
    td["estimated_us"] = t.estimated_us;
    trials.append(td);
  }
  d["trials"] = trials;
  return d;
}

}  // namespace pstable::python
