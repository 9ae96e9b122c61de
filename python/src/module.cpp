// The compiled core of the `pstable` Python package. This file is compiled once per instruction
// set, through src/cores/core_<name>.cpp (which defines PSTABLE_MODULE_NAME=_core_<name>; setup.py
// and python/CMakeLists.txt add the matching -m flags); pstable/__init__.py imports the best one
// the CPU supports. Every
// symbol is hidden and Python loads extensions with RTLD_LOCAL, so the Eigen and xsimd code of
// the different modules never mixes.

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "any_index.hpp"
#include "bind_eval.hpp"
#include "bind_threads.hpp"
#include "bound_e2lsh.hpp"
#include "pstable/pstable.hpp"

#ifndef PSTABLE_MODULE_NAME
#error "compile src/cores/core_<name>.cpp, which defines PSTABLE_MODULE_NAME, not this file"
#endif
#ifndef PSTABLE_SIMD_NAME
#error "define PSTABLE_SIMD_NAME (e.g. avx2)"
#endif

namespace pstable::python {
namespace {

template <class T, class Metric>
struct Types {
  using Scalar = T;
  using MetricType = Metric;
};

template <class T>
struct TypeTag {
  using type = T;
};

template <class T, class Make>
auto with_metric(const std::string& metric, Make&& make) {
  return by_metric_name(metric, [&](auto m) { return make(Types<T, decltype(m)>{}); });
}

std::string no_lsh_family(const char* metric) {
  return detail::concat("E2LSH has no hash family for metric '", metric,
                        "'; use 'euclidean', 'cosine' or 'manhattan', or an ExactIndex");
}

/// The one place where the strings "float32" x "cosine" become C++ types: calls
/// `make(Types<T, Metric>{})` for the combination named.
template <class Make>
auto with_types(const std::string& dtype, const std::string& metric, Make&& make) {
  if (dtype == "float32") return with_metric<float>(metric, make);
  if (dtype == "float64") return with_metric<double>(metric, make);
  throw InvalidArgument("dtype must be 'float32' or 'float64', got '" + dtype + "'");
}

std::unique_ptr<AnyIndex> make_exact(Eigen::Index dim, const std::string& metric,
                                     const std::string& dtype) {
  return with_types(dtype, metric, [&](auto types) -> std::unique_ptr<AnyIndex> {
    using T = typename decltype(types)::Scalar;
    using M = typename decltype(types)::MetricType;
    return std::make_unique<BoundExact<T, M>>(ExactIndex<T, M>(dim));
  });
}

/// An exact index over the caller's C-contiguous array, kept alive by the index: no copy.
std::unique_ptr<AnyIndex> borrow_exact(const py::array& data, const std::string& metric) {
  const std::string dtype = py::str(data.dtype()).cast<std::string>();
  return with_types(dtype, metric, [&](auto types) -> std::unique_ptr<AnyIndex> {
    using T = typename decltype(types)::Scalar;
    using M = typename decltype(types)::MetricType;
    const auto view = view_rows<T>(data, "data");
    return std::make_unique<BoundExact<T, M>>(
        ExactIndex<T, M>::borrow(view.data(), view.rows(), view.cols()), data);
  });
}

/// Calls `make(storage_tag)` with a null pointer of the storage type `storage` names
/// (pstable::Storages lists them: "full", "sq8", "sq4"); InvalidArgument for any other name.
template <class T, class Metric, class Make>
auto with_storage_named(const std::string& storage, Make&& make) {
  using R = decltype(make(static_cast<detail::PointSet<T, Metric>*>(nullptr)));
  return with_storage<T, Metric>(storage, make, [&]() -> R {
    throw InvalidArgument("storage must be one of " + storage_names() + ", got '" + storage + "'");
  });
}

/// The index in an index file, read once (header, checksum and data through one reader, the GIL
/// released): kind, metric and dtype come from the file unless given, and a file holding others
/// than those given raises FormatError. `mmap` maps the file (LoadMode::map) instead of copying.
/// An E2LSH index gets `storage` ("full", "sq8" or "sq4"), the file's own unless given.
/// Returns an Index, or an LSHIndex for kind "e2lsh".
py::object load_file(const std::string& path, const std::optional<std::string>& kind,
                     const std::optional<std::string>& metric,
                     const std::optional<std::string>& dtype, bool mmap,
                     const std::optional<std::string>& storage) {
  std::optional<detail::IndexFileReader> reader;
  {
    py::gil_scoped_release release;
    reader.emplace(path, mmap ? LoadMode::map : LoadMode::copy);
  }
  const IndexFileInfo& info = reader->info();
  const std::string k = kind.value_or(to_string(info.kind));
  const auto read = [&](auto type_tag) {
    using Index = typename decltype(type_tag)::type;
    py::gil_scoped_release release;
    return detail::load_index_from<Index>(*reader);
  };
  return with_types(
      dtype.value_or(to_string(info.scalar)), metric.value_or(to_string(info.metric)),
      [&](auto types) -> py::object {
        using T = typename decltype(types)::Scalar;
        using M = typename decltype(types)::MetricType;
        if (k == "exact") {
          std::unique_ptr<AnyIndex> index =
              std::make_unique<BoundExact<T, M>>(read(TypeTag<ExactIndex<T, M>>{}));
          return py::cast(std::move(index));
        }
        if (k != "e2lsh") {
          throw InvalidArgument("kind must be 'exact' or 'e2lsh', got '" + k + "'");
        }
        if constexpr (!has_lsh_family_v<M>) {
          throw InvalidArgument(no_lsh_family(M::name));
        } else {
          return with_storage_named<T, M>(
              storage.value_or(to_string(info.storage)), [&](auto* tag) {
                using S = std::remove_pointer_t<decltype(tag)>;
                std::unique_ptr<AnyLSHIndex> index =
                    std::make_unique<BoundE2LSH<T, M, S>>(read(TypeTag<E2LSHIndex<T, M, S>>{}));
                return py::cast(std::move(index));
              });
        }
      });
}

std::unique_ptr<AnyLSHIndex> make_e2lsh(Eigen::Index dim, const std::string& metric,
                                        const std::string& dtype, const E2LSHParams& params,
                                        const std::string& storage) {
  return with_types(dtype, metric, [&](auto types) -> std::unique_ptr<AnyLSHIndex> {
    using T = typename decltype(types)::Scalar;
    using M = typename decltype(types)::MetricType;
    if constexpr (!has_lsh_family_v<M>) {
      throw InvalidArgument(no_lsh_family(M::name));
    } else {
      params.validate();
      return with_storage_named<T, M>(storage, [&](auto* tag) -> std::unique_ptr<AnyLSHIndex> {
        using S = std::remove_pointer_t<decltype(tag)>;
        return std::make_unique<BoundE2LSH<T, M, S>>(E2LSHIndex<T, M, S>(dim, params));
      });
    }
  });
}

/// tune_e2lsh for the dtype of `data` (float32 or float64, C-contiguous), `metric` and the
/// candidate storage the timed indexes use.
py::dict tune(const py::array& data, const std::string& metric, const TuneOptions& options,
              const py::object& queries, const std::string& storage) {
  const std::string dtype = py::str(data.dtype()).cast<std::string>();
  return with_types(dtype, metric, [&](auto types) -> py::dict {
    using T = typename decltype(types)::Scalar;
    using M = typename decltype(types)::MetricType;
    if constexpr (!has_lsh_family_v<M>) {
      throw InvalidArgument(no_lsh_family(M::name));
    } else {
      return with_storage_named<T, M>(storage, [&](auto* tag) -> py::dict {
        using S = std::remove_pointer_t<decltype(tag)>;
        return tune_typed<T, M, S>(data, queries, options);
      });
    }
  });
}

// Classes and exception translators are module-local: the cores are separate modules that may
// all be loaded into one process, and must not register the same pybind11 type globally.

// pstable's C++ exceptions become the Python classes of pstable._errors (each derives from
// pstable.Error and from ValueError, RuntimeError or OSError). Handles are leaked on purpose:
// they must outlive the interpreter's module teardown.
struct ErrorClasses {
  py::handle error, invalid_argument, dimension_mismatch, invalid_data, invalid_state, io_error,
      format_error;
};
ErrorClasses errors;

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const DimensionMismatch& e) {
    PyErr_SetString(errors.dimension_mismatch.ptr(), e.what());
  } catch (const InvalidData& e) {
    PyErr_SetString(errors.invalid_data.ptr(), e.what());
  } catch (const InvalidArgument& e) {
    PyErr_SetString(errors.invalid_argument.ptr(), e.what());
  } catch (const InvalidState& e) {
    PyErr_SetString(errors.invalid_state.ptr(), e.what());
  } catch (const FormatError& e) {
    PyErr_SetString(errors.format_error.ptr(), e.what());
  } catch (const IoError& e) {
    PyErr_SetString(errors.io_error.ptr(), e.what());
  } catch (const Error& e) {
    PyErr_SetString(errors.error.ptr(), e.what());
  }
}

void register_errors() {
  const py::module_ m = py::module_::import("pstable._errors");
  const auto get = [&](const char* name) { return py::object(m.attr(name)).release(); };
  errors = {get("Error"),       get("InvalidArgument"), get("DimensionMismatch"),
            get("InvalidData"), get("InvalidState"),    get("IoError"),
            get("FormatError")};
  py::register_local_exception_translator(&translate);
}

/// The header of an index file as a dict, with the names the Python classes use
/// (metric 'ip' for inner product), so that pstable.load can pick the class.
py::dict file_info(const std::string& path) {
  IndexFileInfo info;
  {
    py::gil_scoped_release release;
    info = read_index_file_info(path);
  }
  py::dict d;
  d["format_version"] = info.format_version;
  d["kind"] = to_string(info.kind);
  d["dtype"] = to_string(info.scalar);
  d["metric"] = to_string(info.metric);
  d["storage"] = to_string(info.storage);
  d["dim"] = info.dim;
  d["count"] = info.count;
  d["file_bytes"] = info.file_bytes;
  d["type_name"] = info.type_name();
  return d;
}

template <class Class>
void bind_common(Class& c) {
  c.def_property_readonly("kind", &AnyIndex::kind)
      .def_property_readonly("metric", &AnyIndex::metric)
      .def_property_readonly("dtype", &AnyIndex::dtype)
      .def_property_readonly("dim", &AnyIndex::dim)
      .def_property_readonly("size", &AnyIndex::size)
      .def_property_readonly("owns_data", &AnyIndex::owns_data)
      .def_property_readonly("memory_bytes", &AnyIndex::memory_bytes)
      .def("add", &AnyIndex::add, py::arg("rows"), py::arg("ids") = py::none())
      .def("ids", &AnyIndex::ids)
      .def("search", &AnyIndex::search, py::arg("queries"), py::arg("k"),
           py::arg("num_threads") = 0, py::arg("allowed") = py::none())
      .def("search_radius", &AnyIndex::search_radius, py::arg("queries"), py::arg("radius"),
           py::arg("num_threads") = 0, py::arg("allowed") = py::none())
      .def("remove", &AnyIndex::remove, py::arg("ids"))
      .def("compact", &AnyIndex::compact)
      .def("contains", &AnyIndex::contains, py::arg("id"))
      .def_property_readonly("num_removed", &AnyIndex::num_removed)
      .def_property_readonly("next_id", &AnyIndex::next_id)
      .def("rows", &AnyIndex::rows)
      .def("save", &AnyIndex::save, py::arg("path"))
      .def("data_address", &AnyIndex::data_address);
#if defined(PSTABLE_PYTHON_TEST_HOOKS)
  c.def("last_query_address", &AnyIndex::last_query_address)
      .def("active_calls", &AnyIndex::active_calls);
#endif
}

}  // namespace
}  // namespace pstable::python

PYBIND11_MODULE(PSTABLE_MODULE_NAME, m) {
  namespace py = pybind11;
  using namespace pstable::python;
  m.doc() = "pstable's compiled core for one instruction set; use the `pstable` package instead";
  register_errors();

  m.attr("simd") = PSTABLE_SIMD_NAME;
  m.attr("kernel_arch") = pstable::simd::kernels<float>().arch;
  m.attr("version") = pstable::version();
  std::vector<std::string> storages;
  pstable::detail::for_each_storage(
      pstable::Storages{}, [&](const char* name, std::uint8_t) { storages.emplace_back(name); });
  m.attr("storages") = py::tuple(py::cast(storages));
  bind_threads(m);

  py::class_<AnyIndex> index(m, "Index", py::module_local());
  bind_common(index);
  m.def("make_exact", &make_exact, py::arg("dim"), py::arg("metric"), py::arg("dtype"));
  m.def("borrow_exact", &borrow_exact, py::arg("data"), py::arg("metric"));
  m.def("file_info", &file_info, py::arg("path"));

  py::class_<AnyLSHIndex, AnyIndex>(m, "LSHIndex", py::module_local())
      .def("set_num_probes", &AnyLSHIndex::set_num_probes, py::arg("probes"))
      .def("set_min_collisions", &AnyLSHIndex::set_min_collisions, py::arg("m"))
      .def_property_readonly("storage", &AnyLSHIndex::storage)
      .def("params", [](const AnyLSHIndex& self) { return params_dict(self.params()); });
  m.def("load_file", &load_file, py::arg("path"), py::arg("kind") = py::none(),
        py::arg("metric") = py::none(), py::arg("dtype") = py::none(), py::arg("mmap") = false,
        py::arg("storage") = py::none());
  m.def(
      "make_e2lsh",
      [](Eigen::Index dim, const std::string& metric, const std::string& dtype,
         const py::dict& params, const std::string& storage) {
        return make_e2lsh(dim, metric, dtype, params_from<pstable::E2LSHParams>(params), storage);
      },
      py::arg("dim"), py::arg("metric"), py::arg("dtype"), py::arg("params"),
      py::arg("storage") = "full");
  m.def(
      "tune",
      [](const py::array& data, const std::string& metric, const py::dict& options,
         const py::object& queries, const py::object& progress, const std::string& storage) {
        auto o = params_from<pstable::TuneOptions>(options);
        // Between steps, with the GIL: Ctrl-C (KeyboardInterrupt) and an exception raised by
        // progress(done, total, stage) cancel the tuning. `progress` outlives the call.
        o.progress = [cb = py::handle(progress)](const pstable::TuneProgress& p) {
          py::gil_scoped_acquire gil;
          if (PyErr_CheckSignals() != 0) throw py::error_already_set();
          if (!cb.is_none()) cb(p.done, p.total, p.stage);
        };
        return tune(data, metric, o, queries, storage);
      },
      py::arg("data"), py::arg("metric"), py::arg("options"), py::arg("queries") = py::none(),
      py::arg("progress") = py::none(), py::arg("storage") = "full");
  m.def("e2lsh_params_fields", &params_docs<pstable::E2LSHParams>);
  m.def("tune_options_fields", &params_docs<pstable::TuneOptions>);
  bind_eval(m);
}
