#pragma once

// E2LSH behind the AnyIndex interface. Included only when pstable/index/e2lsh.hpp exists.

#include <string>

#include "any_index.hpp"
#include "pstable/index/e2lsh.hpp"

namespace pstable::python {

/// What an E2LSH index adds to AnyIndex.
class AnyLSHIndex : public AnyIndex {
 public:
  virtual void remove(Id id) = 0;
  virtual void compact() = 0;
  virtual void set_num_probes(int probes) = 0;
  virtual E2LSHParams params() const = 0;
};

template <class T, class Metric>
class BoundE2LSH final : public Bound<E2LSHIndex<T, Metric>, AnyLSHIndex> {
 public:
  using Bound<E2LSHIndex<T, Metric>, AnyLSHIndex>::Bound;
  std::string kind() const override { return "e2lsh"; }
  bool owns_data() const override { return true; }

  py::array rows() const override {
    throw InvalidState("E2LSHIndex keeps no row matrix to pickle yet; use save()/load()");
  }
  std::uintptr_t data_address() const override { return 0; }

  void remove(Id id) override {
    py::gil_scoped_release release;
    std::unique_lock lock(this->mutex_);
    this->index_.remove(id);
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
  E2LSHParams params() const override {
    std::shared_lock lock(this->mutex_);
    return this->index_.params();
  }
};

}  // namespace pstable::python
