#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pstable/detail/point_set.hpp"
#include "pstable/metric/euclidean.hpp"
#include "pstable/storage/scalar_codes.hpp"

namespace pstable {

/// Every candidate storage E2LSHIndex can hold its rows in, in one list: name parsing
/// (`with_storage`), the Python binding and the index files (each storage's `file_code`, the
/// header's storage byte) all read it. A new storage is its header and one entry here. Each is a
/// template over <T, Metric> with a `name` and a `file_code` that do not depend on T and Metric;
/// code 0 is the full-precision rows, which every index kind has.
template <template <class, class> class... Storage>
struct StorageList {};
using Storages = StorageList<detail::PointSet, Sq8Storage, Sq4Storage>;

/// The full-precision rows: E2LSHIndex's default storage ("full"), under a public name.
template <class T, class Metric>
using FullStorage = detail::PointSet<T, Metric>;

namespace detail {
// A storage's name and file code (the same for every T and Metric).
template <template <class, class> class S>
using StorageTag = S<float, Euclidean>;

template <template <class, class> class... S, class F>
void for_each_storage(StorageList<S...>, F&& f) {
  (f(StorageTag<S>::name, StorageTag<S>::file_code), ...);
}

template <class T, class Metric, template <class, class> class... S, class F>
void for_each_storage_type(StorageList<S...>, F& f) {
  (f(static_cast<S<T, Metric>*>(nullptr)), ...);
}

template <class T, class Metric, class R, class F, class Unknown>
R dispatch_storage(StorageList<>, std::string_view, F&, Unknown& on_unknown) {
  return on_unknown();
}
template <class T, class Metric, class R, class F, class Unknown, template <class, class> class S,
          template <class, class> class... Rest>
R dispatch_storage(StorageList<S, Rest...>, std::string_view name, F& f, Unknown& on_unknown) {
  if (name == StorageTag<S>::name) return f(static_cast<S<T, Metric>*>(nullptr));
  return dispatch_storage<T, Metric, R>(StorageList<Rest...>{}, name, f, on_unknown);
}
}  // namespace detail

/// Calls f(static_cast<Storage<T, Metric>*>(nullptr)) for the storage `name` names and returns
/// the result, or on_unknown() when no storage has that name: the one place where a storage name
/// becomes a type (the Python binding, the bench).
template <class T, class Metric, class F, class Unknown>
decltype(auto) with_storage(std::string_view name, F&& f, Unknown&& on_unknown) {
  using R = decltype(f(static_cast<detail::PointSet<T, Metric>*>(nullptr)));
  return detail::dispatch_storage<T, Metric, R>(Storages{}, name, f, on_unknown);
}

/// Calls f(static_cast<Storage<T, Metric>*>(nullptr)) for every storage in `Storages`, in order
/// (the benches measure each; `Storage::name` says which it is).
template <class T, class Metric, class F>
void for_each_storage_type(F&& f) {
  detail::for_each_storage_type<T, Metric>(Storages{}, f);
}

/// "'full', 'sq8', 'sq4'": the accepted names, for messages.
inline std::string storage_names() {
  std::string out;
  detail::for_each_storage(Storages{}, [&](const char* name, std::uint8_t) {
    out += (out.empty() ? "'" : ", '") + std::string(name) + "'";
  });
  return out;
}

/// The name of the storage whose file code is `code`, or nullptr when there is none.
inline const char* storage_name(std::uint8_t code) noexcept {
  const char* out = nullptr;
  detail::for_each_storage(Storages{}, [&](const char* name, std::uint8_t c) {
    if (c == code) out = name;
  });
  return out;
}

}  // namespace pstable
