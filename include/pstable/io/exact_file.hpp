#pragma once

#include <cstdint>

#include "pstable/core/types.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/id_sections.hpp"
#include "pstable/io/index_stream.hpp"

namespace pstable {
namespace detail {

/// ExactIndex files (kind 1, docs/file-format.md). Parameters (from format version 4 on):
/// next_id (i64) and the id-map flag (u8). Sections: ROWS (every held row in insertion order,
/// removed ones included), then from version 4 on DELS and IDMP (write_id_sections). Files of
/// versions 1-3 hold ROWS alone: header count x dim values, ids 0 .. count - 1, nothing removed.
/// Norms are recomputed on load (the same kernels give the same values, so searches are
/// bit-identical). A borrowed index saves its rows and loads as an owning one; from a mapped
/// file (LoadMode::map) the loaded index borrows the rows where they lie in the mapping.
template <class T, class Metric>
struct IndexSerializer<ExactIndex<T, Metric>> {
  using Scalar = T;
  using MetricType = Metric;
  static constexpr IndexKind kind = IndexKind::exact;

  static void save(const ExactIndex<T, Metric>& index, IndexFileWriter& out) {
    out.param<std::int64_t>("next_id", index.ids_.next_id());
    out.param<std::uint8_t>("id_map", index.ids_.has_id_map() ? 1 : 0);
    out.section("ROWS", index.data().data(),
                static_cast<std::size_t>(index.rows()) * static_cast<std::size_t>(index.dim()));
    write_id_sections(index.ids_, out);
  }

  static ExactIndex<T, Metric> load(IndexFileReader& in) {
    const auto& h = in.header();
    const bool has_ids = h.format_version >= 4;
    std::int64_t next_id = 0;
    std::uint8_t id_map_flag = 0;
    if (has_ids) {
      next_id = in.param<std::int64_t>("next_id");
      id_map_flag = in.param<std::uint8_t>("id_map");
    }
    const std::uint64_t found = in.begin_section<T>("ROWS");
    std::uint64_t rows = h.count;
    if (has_ids) {
      if (found % h.dim != 0) {
        in.corrupt(concat("section ROWS holds ", found, " values, not a multiple of the ", h.dim,
                          " dimensions"));
      }
      rows = found / h.dim;
    } else if (found != checked_mul(h.count, h.dim, "points x dimensions")) {
      in.corrupt(concat("section ROWS holds ", found, " values, the header's ", h.count,
                        " points x ", h.dim, " dimensions need ", h.count * h.dim));
    }
    const auto dim = static_cast<Eigen::Index>(h.dim);
    const auto n = static_cast<Eigen::Index>(rows);
    ExactIndex<T, Metric> index(dim);
    if (const T* in_place = in.values_in_place<T>(found)) {
      index = ExactIndex<T, Metric>::borrow(in_place, n, dim, in.mapping());
    } else {
      RowMatrix<T> staged(n, dim);
      in.read_values(staged.data(), found);
      if (n > 0) index.add(staged);
    }
    if (has_ids) index.ids_ = read_id_sections(in, rows, next_id, id_map_flag);
    return index;
  }
};

}  // namespace detail
}  // namespace pstable
