#pragma once

// The type-erased index the Python classes hold: one interface, implemented once per
// (index kind, scalar, metric) combination by Bound<Index>.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <utility>

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

  /// Appends the rows of a C-contiguous 2-D array of the index's dtype (copied into the index).
  virtual void add(const py::array& rows) = 0;
  /// (ids, distances, visited) for the rows of a C-contiguous 2-D array of the index's dtype.
  virtual py::tuple search(const py::array& queries, Eigen::Index k, int num_threads) const = 0;
  /// (offsets, ids, distances, visited) of a range search (see RangeNeighbors).
  virtual py::tuple search_radius(const py::array& queries, double radius,
                                  int num_threads) const = 0;
  /// A copy of the stored rows (for pickling).
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

/// (offsets, ids, distances, visited) of a range search, handed to numpy without copies.
template <class T>
py::tuple range_tuple(RangeNeighbors<T>& result) {
  return py::make_tuple(adopt(std::move(result.offsets())), adopt(std::move(result.ids())),
                        adopt(std::move(result.distances())), adopt(std::move(result.visited())));
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

  void add(const py::array& rows) override {
    const auto view = view_rows<T>(rows, "data");
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    const typename AnyIndex::ActiveCall active(*this, nullptr);
    index_.add(MatrixRef<T>(view));
  }

  py::tuple search(const py::array& queries, Eigen::Index k, int num_threads) const override {
    const auto view = view_rows<T>(queries, "queries");
    Neighbors<T> result;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      const MatrixRef<T> ref(view);  // binds the numpy buffer itself: no copy
      const typename AnyIndex::ActiveCall active(*this, ref.data());
      result = index_.search(ref, k, num_threads);
    }
    return py::make_tuple(adopt(std::move(result.ids())), adopt(std::move(result.distances())),
                          adopt(std::move(result.visited())));
  }

  py::tuple search_radius(const py::array& queries, double radius, int num_threads) const override {
    const auto view = view_rows<T>(queries, "queries");
    RangeNeighbors<T> result;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(this->mutex_);
      const MatrixRef<T> ref(view);
      const typename AnyIndex::ActiveCall active(*this, ref.data());
      result = index_.search_radius(ref, static_cast<T>(radius), num_threads);
    }
    return range_tuple(result);
  }

  void save(const std::string& path) const override {
    py::gil_scoped_release release;
    std::shared_lock lock(this->mutex_);
    save_index(index_, path);
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

  bool owns_data() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.owns_data();
  }
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
