#pragma once

#include <cstdint>

#include "pstable/core/types.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_stream.hpp"

namespace pstable {
namespace detail {

/// ExactIndex files: no parameters, one section "ROWS" with size() x dim() values in id order.
/// Norms are recomputed on load (the same kernels give the same values, so searches are
/// bit-identical). A borrowed index saves its rows and loads as an owning one; from a mapped
/// file (LoadMode::map) the loaded index borrows the rows where they lie in the mapping.
template <class T, class Metric>
struct IndexSerializer<ExactIndex<T, Metric>> {
  using Scalar = T;
  using MetricType = Metric;
  static constexpr IndexKind kind = IndexKind::exact;

  static void save(const ExactIndex<T, Metric>& index, IndexFileWriter& out) {
    out.section("ROWS", index.data().data(),
                static_cast<std::size_t>(index.size()) * static_cast<std::size_t>(index.dim()));
  }

  static ExactIndex<T, Metric> load(IndexFileReader& in) {
    const auto& h = in.header();
    const std::uint64_t values = checked_mul(h.count, h.dim, "points x dimensions");
    const std::uint64_t found = in.begin_section<T>("ROWS");
    if (found != values) {
      in.corrupt(concat("section ROWS holds ", found, " values, the header's ", h.count,
                        " points x ", h.dim, " dimensions need ", values));
    }
    const auto dim = static_cast<Eigen::Index>(h.dim);
    if (const T* in_place = in.values_in_place<T>(found)) {
      return ExactIndex<T, Metric>::borrow(in_place, static_cast<Eigen::Index>(h.count), dim,
                                           in.mapping());
    }
    RowMatrix<T> rows(static_cast<Eigen::Index>(h.count), dim);
    in.read_values(rows.data(), found);
    ExactIndex<T, Metric> index(dim);
    if (rows.rows() > 0) index.add(rows);
    return index;
  }
};

}  // namespace detail
}  // namespace pstable
