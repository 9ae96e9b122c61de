#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "pstable/metric/cosine.hpp"
#include "pstable/metric/euclidean.hpp"
#include "pstable/metric/inner_product.hpp"
#include "pstable/metric/manhattan.hpp"

namespace pstable {

/// Every metric pstable knows, in one list: name parsing (`with_metric`), the Python binding and
/// the index files (each metric's `file_code`) all read it. A new metric is its header and one
/// entry here.
using Metrics = std::tuple<Euclidean, Cosine, InnerProduct, Manhattan>;

namespace detail {
template <class M, class List>
struct InList;
template <class M, class... Ms>
struct InList<M, std::tuple<Ms...>> : std::bool_constant<(std::is_same_v<M, Ms> || ...)> {};
}  // namespace detail

/// True for the metric tags pstable knows; indexes static_assert on it.
template <class M>
inline constexpr bool is_metric_v = detail::InList<M, Metrics>::value;

/// True when `text` is the metric's name or one of its aliases.
template <class M>
bool metric_named(std::string_view text) noexcept {
  if (text == M::name) return true;
  for (const char* alias : M::aliases) {
    if (text == alias) return true;
  }
  return false;
}

/// The list of accepted names, for messages: "'euclidean' (or 'l2'), 'cosine' (or 'cos'), ...".
inline std::string metric_names() {
  std::string out;
  std::apply(
      [&](auto... m) {
        ((out += (out.empty() ? "'" : ", '") + std::string(decltype(m)::name) + "'"), ...);
      },
      Metrics{});
  return out;
}

namespace detail {
template <class R, class F, class U>
R dispatch_metric(std::string_view, F&, U& on_unknown) {
  return on_unknown();
}
template <class R, class F, class U, class M, class... Ms>
R dispatch_metric(std::string_view text, F& f, U& on_unknown, M m, Ms... ms) {
  if (metric_named<M>(text)) return f(m);
  return dispatch_metric<R>(text, f, on_unknown, ms...);
}
template <class R, class F, class U>
R dispatch_code(std::uint8_t, F&, U& on_unknown) {
  return on_unknown();
}
template <class R, class F, class U, class M, class... Ms>
R dispatch_code(std::uint8_t code, F& f, U& on_unknown, M m, Ms... ms) {
  if (code == M::file_code) return f(m);
  return dispatch_code<R>(code, f, on_unknown, ms...);
}
}  // namespace detail

/// Calls f(Metric{}) for the metric `text` names (its name or an alias) and returns the result,
/// or on_unknown() when no metric has that name: the one place where a metric name becomes a type
/// (the Python binding, the bench and index files go through it).
template <class F, class Unknown>
decltype(auto) with_metric(std::string_view text, F&& f, Unknown&& on_unknown) {
  using R = decltype(f(Euclidean{}));
  return std::apply(
      [&](auto... m) -> R { return detail::dispatch_metric<R>(text, f, on_unknown, m...); },
      Metrics{});
}

/// Calls f(Metric{}) for the metric whose index-file code is `code`, or on_unknown().
template <class F, class Unknown>
decltype(auto) with_metric_code(std::uint8_t code, F&& f, Unknown&& on_unknown) {
  using R = decltype(f(Euclidean{}));
  return std::apply(
      [&](auto... m) -> R { return detail::dispatch_code<R>(code, f, on_unknown, m...); },
      Metrics{});
}

}  // namespace pstable
