#pragma once

// The type-erased index the Python classes hold: one interface, implemented once per
// (index kind, scalar, metric) combination by Bound<Index>.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "numpy_glue.hpp"
#include "pstable/pstable.hpp"

namespace pstable::python {

/// What every index offers Python. Thread safety: `add` (and other mutations) take an exclusive
/// lock, `search` a shared one, both after releasing the GIL, so Python threads may call any
/// method concurrently and searches run in parallel.
class AnyIndex {
 public:
  virtual ~AnyIndex() = default;

  virtual std::string kind() const = 0;
  virtual std::string metric() const = 0;
  virtual std::string dtype() const = 0;
  virtual Eigen::Index dim() const = 0;
  virtual Eigen::Index size() const = 0;
  virtual bool owns_data() const = 0;
  virtual std::size_t memory_bytes() const = 0;

  /// Appends the rows of a C-contiguous 2-D array of the index's dtype (copied into the index),
  /// with default ids when `ids` is None, else with ids[i] for row i (a 1-D int64 array; the
  /// index checks them).
  virtual void add(const py::array& rows, const py::object& ids) = 0;
  /// The ids searches can return, in insertion order (int64 array).
  virtual py::array ids() const = 0;
  /// (ids, distances, visited, probed) for the rows of a C-contiguous 2-D array of the index's
  /// dtype; `allowed` is None or a filter mask (see Mask). probed is 0 for exact search.
  virtual py::tuple search(const py::array& queries, Eigen::Index k, int num_threads,
                           const py::object& allowed) const = 0;
  /// (offsets, ids, distances, visited, probed) of a range search (see RangeNeighbors);
  /// `allowed` as for search.
  virtual py::tuple search_radius(const py::array& queries, double radius, int num_threads,
                                  const py::object& allowed) const = 0;
  /// Removes every id or none: all are checked (present, not removed, no repeats) first.
  virtual void remove(const std::vector<Id>& ids) = 0;
  virtual void compact() = 0;
  virtual bool contains(Id id) const = 0;
  virtual Eigen::Index num_removed() const = 0;
  virtual Id next_id() const = 0;
  /// A copy of the stored rows (ExactIndex.rows()).
  virtual py::array rows() const = 0;
  /// Writes the index file (needs the C++ file format; raises otherwise).
  virtual void save(const std::string& path) const = 0;

  /// Address of the first stored value (a borrowed array's own buffer for `borrow`).
  virtual std::uintptr_t data_address() const = 0;

#if defined(PSTABLE_PYTHON_TEST_HOOKS)
  // Debug hooks the tests use to prove zero-copy and GIL release; only in test builds
  // (PSTABLE_TEST_HOOKS=1 when building the package).
  /// Address of the first query value the last `search` handed to the C++ index.
  std::uintptr_t last_query_address() const noexcept { return last_query_address_.load(); }
  /// Number of calls currently running in C++ with the GIL released.
  int active_calls() const noexcept { return active_calls_.load(); }
#endif

 protected:
  // Marks a call as running in C++ for as long as it lives (construct it after releasing the
  // GIL) and records its query address; does nothing outside test builds.
  class ActiveCall {
   public:
#if defined(PSTABLE_PYTHON_TEST_HOOKS)
    ActiveCall(const AnyIndex& owner, const void* query) : owner_(owner) {
      ++owner_.active_calls_;
      if (query != nullptr) owner_.last_query_address_ = reinterpret_cast<std::uintptr_t>(query);
    }
    ~ActiveCall() { --owner_.active_calls_; }
#else
    ActiveCall(const AnyIndex&, const void*) noexcept {}
#endif
    ActiveCall(const ActiveCall&) = delete;
    ActiveCall& operator=(const ActiveCall&) = delete;

#if defined(PSTABLE_PYTHON_TEST_HOOKS)
   private:
    const AnyIndex& owner_;
#endif
  };

  mutable std::shared_mutex mutex_;
#if defined(PSTABLE_PYTHON_TEST_HOOKS)
  mutable std::atomic<std::uintptr_t> last_query_address_{0};
  mutable std::atomic<int> active_calls_{0};
#endif
};

/// The `allowed` argument of the searches: None; a 1-D C-contiguous bool array over ids (only ids
/// with allowed[id] true, and id < len(allowed), pass); or a 1-D C-contiguous int64 array of the
/// allowed ids in increasing order (searched by bisection: user ids may be far apart). It only
/// reads the array, so the worker threads may call it concurrently. The array must outlive it.
struct Mask {
  const bool* mask = nullptr;
  const Id* sorted = nullptr;
  Id size = 0;

  explicit Mask(const py::object& allowed) {
    if (allowed.is_none()) return;
    const auto a = py::reinterpret_borrow<py::array>(allowed);
    if (a.ndim() == 1 && py::isinstance<py::array_t<bool, py::array::c_style>>(a)) {
      mask = static_cast<const bool*>(a.data());
    } else if (a.ndim() == 1 && py::isinstance<py::array_t<Id, py::array::c_style>>(a)) {
      sorted = static_cast<const Id*>(a.data());
    } else {
      throw py::type_error(
          "allowed must be a 1-D C-contiguous bool array over ids or an int64 array of ids");
    }
    size = static_cast<Id>(a.shape(0));
  }
  bool all() const noexcept { return mask == nullptr && sorted == nullptr; }
  bool operator()(Id id) const noexcept {
    if (mask != nullptr) return id >= 0 && id < size && mask[id];
    return std::binary_search(sorted, sorted + size, id);
  }
};

/// (ids, distances, visited, probed) of a search, handed to numpy without copies.
template <class T>
py::tuple result_tuple(Neighbors<T>& result) {
  return py::make_tuple(adopt(std::move(result.ids())), adopt(std::move(result.distances())),
                        adopt(std::move(result.visited())), adopt(std::move(result.probed())));
}

/// (offsets, ids, distances, visited, probed) of a range search, handed to numpy without copies.
template <class T>
py::tuple range_tuple(RangeNeighbors<T>& result) {
  return py::make_tuple(adopt(std::move(result.offsets())), adopt(std::move(result.ids())),
                        adopt(std::move(result.distances())), adopt(std::move(result.visited())),
                        adopt(std::move(result.probed())));
}

template <class T>
std::string dtype_name() {
  return std::is_same_v<T, float> ? "float32" : "float64";
}

/// The common part of every index: add, search and the properties, over a concrete
/// `Index<T, Metric>`. `Interface` is AnyIndex or a kind-specific extension of it.
template <class Index, class Interface = AnyIndex>
class Bound : public Interface {
 public:
  using T = typename Index::Scalar;
  using Metric = typename Index::MetricType;

  explicit Bound(Index index, py::object keep_alive = py::none())
      : index_(std::move(index)), keep_alive_(std::move(keep_alive)) {}

  std::string metric() const override { return Metric::name; }
  std::string dtype() const override { return dtype_name<T>(); }
  Eigen::Index dim() const override { return index_.dim(); }
  Eigen::Index size() const override {
    std::shared_lock lock(this->mutex_);
    return index_.size();
  }
  std::size_t memory_bytes() const override {
    std::shared_lock lock(this->mutex_);
    return index_.memory_bytes();
  }

  void add(const py::array& rows, const py::object& ids) override {
    const auto view = view_rows<T>(rows, "data");
    std::vector<Id> labels;
    if (!ids.is_none()) {
      const auto a = py::array_t<Id, py::array::c_style | py::array::forcecast>::ensure(ids);
      if (!a || a.ndim() != 1) throw py::type_error("ids must be a 1-D int64 array");
      labels.assign(a.data(), a.data() + a.shape(0));
    }
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    const typename AnyIndex::ActiveCall active(*this, nullptr);
    if (ids.is_none()) {
      index_.add(MatrixRef<T>(view));
    } else {
      index_.add(MatrixRef<T>(view), labels);
    }
  }

  py::array ids() const override {
    std::vector<Id> live;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      live = index_.ids();
    }
    return py::array_t<Id>(static_cast<py::ssize_t>(live.size()), live.data());
  }

  py::tuple search(const py::array& queries, Eigen::Index k, int num_threads,
                   const py::object& allowed) const override {
    const auto view = view_rows<T>(queries, "queries");
    const Mask mask(allowed);
    Neighbors<T> result;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      const MatrixRef<T> ref(view);  // binds the numpy buffer itself: no copy
      const typename AnyIndex::ActiveCall active(*this, ref.data());
      result = mask.all() ? index_.search(ref, k, num_threads)
                          : index_.search_filtered(ref, k, mask, num_threads);
    }
    return result_tuple(result);
  }

  py::tuple search_radius(const py::array& queries, double radius, int num_threads,
                          const py::object& allowed) const override {
    const auto view = view_rows<T>(queries, "queries");
    const Mask mask(allowed);
    RangeNeighbors<T> result;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      const MatrixRef<T> ref(view);
      const typename AnyIndex::ActiveCall active(*this, ref.data());
      const auto r = static_cast<T>(radius);
      result = mask.all() ? index_.search_radius(ref, r, num_threads)
                          : index_.search_radius_filtered(ref, r, mask, num_threads);
    }
    return range_tuple(result);
  }

  void save(const std::string& path) const override {
    py::gil_scoped_release release;
    std::shared_lock lock(this->mutex_);
    save_index(index_, path);
  }

  void remove(const std::vector<Id>& ids) override {
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    std::vector<Id> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (!index_.contains(sorted[i])) {
        // remove() of a missing id throws the index's own message before changing anything,
        // and nothing has been removed yet.
        index_.remove(sorted[i]);
      }
      if (i > 0 && sorted[i] == sorted[i - 1]) {
        throw InvalidArgument(detail::concat(
            "id ", sorted[i], " appears twice in the ids to remove; pass each once"));
      }
    }
    for (const Id id : ids) index_.remove(id);
  }
  void compact() override {
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    index_.compact();
  }
  bool contains(Id id) const override {
    std::shared_lock lock(this->mutex_);
    return index_.contains(id);
  }
  Eigen::Index num_removed() const override {
    std::shared_lock lock(this->mutex_);
    return index_.num_removed();
  }
  Id next_id() const override {
    std::shared_lock lock(this->mutex_);
    return index_.next_id();
  }
  bool owns_data() const override {
    std::shared_lock lock(this->mutex_);
    return index_.owns_data();
  }

 protected:
  Index index_;
  py::object keep_alive_;  // the numpy array a borrowed index reads
};

/// Exact search: nothing beyond the common part.
template <class T, class Metric>
class BoundExact final : public Bound<ExactIndex<T, Metric>> {
 public:
  using Bound<ExactIndex<T, Metric>>::Bound;
  std::string kind() const override { return "exact"; }

  py::array rows() const override {
    std::shared_lock lock(this->mutex_);
    return adopt(RowMatrix<T>(this->index_.data()));
  }
  std::uintptr_t data_address() const override {
    std::shared_lock lock(this->mutex_);
    return reinterpret_cast<std::uintptr_t>(this->index_.data().data());
  }
};

}  // namespace pstable::python
