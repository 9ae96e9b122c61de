#pragma once

// numpy <-> Eigen without copies: the only place the extension touches array buffers.

#include <memory>
#include <utility>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "pstable/core/types.hpp"

namespace pstable::python {

namespace py = pybind11;

/// A read-only Eigen view of a 2-D, C-contiguous numpy array of exactly T: no copy. The Python
/// package converts other inputs first (with a documented copy); this layer only refuses them,
/// so a call to the private module never copies behind the caller's back.
template <class T>
Eigen::Map<const RowMatrix<T>> view_rows(const py::array& array, const char* what) {
  if (!py::isinstance<py::array_t<T, py::array::c_style>>(array)) {
    throw py::type_error(std::string(what) + " must be a C-contiguous " +
                         py::str(py::dtype::of<T>()).cast<std::string>() +
                         " array; convert it with numpy.ascontiguousarray(x, dtype=...)");
  }
  if (array.ndim() != 2) {
    throw py::value_error(std::string(what) + " must be 2-D (one point per row), got " +
                          std::to_string(array.ndim()) + " dimensions");
  }
  return {static_cast<const T*>(array.data()), array.shape(0), array.shape(1)};
}

/// Hands an Eigen matrix to numpy without copying: numpy's array owns the moved matrix through
/// a capsule and frees it with the array.
template <class Matrix>
py::array adopt(Matrix&& matrix) {
  using Owned = std::decay_t<Matrix>;
  using Scalar = typename Owned::Scalar;
  auto owned = std::make_unique<Owned>(std::forward<Matrix>(matrix));
  const Owned* raw = owned.get();
  py::capsule free(raw, [](void* p) { delete static_cast<Owned*>(p); });
  owned.release();  // the capsule owns it now
  constexpr auto item = static_cast<py::ssize_t>(sizeof(Scalar));
  if constexpr (Owned::ColsAtCompileTime == 1) {
    return py::array(py::dtype::of<Scalar>(), {raw->rows()}, {item}, raw->data(), free);
  } else {
    static_assert(Owned::IsRowMajor, "adopt expects row-major matrices");
    return py::array(py::dtype::of<Scalar>(), {raw->rows(), raw->cols()},
                     {raw->cols() * item, item}, raw->data(), free);
  }
}

}  // namespace pstable::python
