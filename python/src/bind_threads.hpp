#pragma once

// The default thread count of batch calls (pstable/core/threads.hpp). Each compiled core has its
// own; the package uses the one it imported.

#include <pybind11/pybind11.h>

#include "pstable/core/threads.hpp"

namespace pstable::python {

inline void bind_threads(pybind11::module_& m) {
  m.def("set_num_threads", &pstable::set_num_threads, pybind11::arg("n"));
  m.def("get_num_threads", &pstable::get_num_threads);
}

}  // namespace pstable::python
