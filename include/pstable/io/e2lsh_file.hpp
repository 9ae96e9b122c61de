#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/e2lsh_params.hpp"
#include "pstable/index/hashing.hpp"
#include "pstable/io/id_sections.hpp"
#include "pstable/io/index_stream.hpp"

namespace pstable {
namespace detail {

/// E2LSHIndex files (kind 2, docs/file-format.md). Parameters: every field of E2LSHParams under
/// its name and type (for_each_field), next_id (i64) and id_map (u8); formats 1-5 packed
/// num_tables, num_hashes (i32), bucket_width (f64), num_probes (i32), seed (u64), next_id,
/// mapped (u8), and from format 2 on min_collisions (i32; version 1 files load with 1). Sections:
/// ROWS (every held row, removed ones included), DELS (u8 tombstone per row), IDMP (i64 id per
/// row; empty unless compacted), PROJ (a_j / w, dim x L*k column-major) and OFFS (u_j, L*k),
/// then TKEY (u64), TOFF (u32) and TROW (u32) for each table. The hash family and tables are
/// stored, not rebuilt, so a loaded index answers bit for bit like the saved one whatever the
/// libm. From a mapped file (LoadMode::map) the index reads ROWS in place and keeps the mapping
/// alive; the other arrays (tables: 4 bytes per row per table; tombstones; ids) are copied, the
/// tables' checks read them anyway. Load checks every array's size, range and order before the index uses it; what it
/// cannot check cheaply is that a table's keys are the hashes of its rows (a crafted file with
/// wrong keys gives poor recall, never an out-of-bounds access).

template <class T, class Metric, class Storage>
struct IndexSerializer<E2LSHIndex<T, Metric, Storage>> {
  using Index = E2LSHIndex<T, Metric, Storage>;
  using Scalar = T;
  using MetricType = Metric;
  static constexpr IndexKind kind = IndexKind::e2lsh;
  static constexpr StorageKind storage = StorageKind{Storage::file_code};

  static void save(const Index& index, IndexFileWriter& out) {
    const E2LSHParams& p = index.params_;
    E2LSHParams::for_each_field(
        [&](const char* name, auto field, const char*) { out.param(name, p.*field); });
    out.param<std::int64_t>("next_id", index.ids_.next_id());
    out.param<std::uint8_t>("id_map", index.ids_.has_id_map() ? 1 : 0);

    const auto n = static_cast<std::size_t>(index.points_.size());
    const auto d = static_cast<std::size_t>(index.dim());
    out.section("ROWS", index.points_.matrix().data(), n * d);
    write_id_sections(index.ids_, out);
    const auto& h = index.hashes_;
    out.section("PROJ", h.scaled_projections().data(),
                static_cast<std::size_t>(h.scaled_projections().size()));
    out.section("OFFS", h.scaled_offsets().data(),
                static_cast<std::size_t>(h.scaled_offsets().size()));
    static const std::uint32_t zero = 0;
    for (const BucketTable& table : index.tables_) {
      out.section("TKEY", table.keys());
      // A table that never held a row has no offsets yet; the file always has keys + 1.
      if (table.offsets().empty()) {
        out.section("TOFF", &zero, 1);
      } else {
        out.section("TOFF", table.offsets());
      }
      out.section("TROW", table.rows());
    }
  }

  static Index load(IndexFileReader& in) {
    const FileHeader& header = in.header();
    E2LSHParams p;
    std::int64_t next_id = 0;
    std::uint8_t mapped = 0;
    if (in.named_params()) {
      // Every field of E2LSHParams by its name; one the file lacks keeps its default.
      E2LSHParams::for_each_field([&](const char* name, auto field, const char*) {
        p.*field = in.param_or(name, p.*field);
      });
      next_id = in.param<std::int64_t>("next_id");
      mapped = in.param<std::uint8_t>("id_map");
    } else {  // formats 1-5: packed in this order; min_collisions from format 2 on
      p.num_tables = in.param<std::int32_t>("num_tables");
      p.num_hashes = in.param<std::int32_t>("num_hashes");
      p.bucket_width = in.param<double>("bucket_width");
      p.num_probes = in.param<std::int32_t>("num_probes");
      p.seed = in.param<std::uint64_t>("seed");
      next_id = in.param<std::int64_t>("next_id");
      mapped = in.param<std::uint8_t>("mapped");
      if (header.format_version >= 2) p.min_collisions = in.param<std::int32_t>("min_collisions");
    }
    try {
      p.validate();
    } catch (const InvalidArgument& e) {
      in.corrupt(concat("bad E2LSH parameters: ", e.what()));
    }
    // Rows, held ones and removed ones.
    const std::uint64_t dim = header.dim;
    const std::uint64_t values = in.begin_section<T>("ROWS");
    if (values % dim != 0) {
      in.corrupt(concat("section ROWS holds ", values, " values, not a multiple of the ", dim,
                        " dimensions"));
    }
    const std::uint64_t n = values / dim;
    if (n > static_cast<std::uint64_t>(Index::kMaxRows)) {
      in.corrupt(concat(n, " rows exceed the ", Index::kMaxRows, " an E2LSH index holds"));
    }
    // From a mapping the rows stay where they lie; otherwise they are staged here.
    RowMatrix<T> staged;
    const T* row_data = in.values_in_place<T>(values);
    if (row_data == nullptr) {
      staged.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim));
      in.read_values(staged.data(), values);
      row_data = staged.data();
    }
    const Eigen::Map<const RowMatrix<T>> rows(row_data, static_cast<Eigen::Index>(n),
                                              static_cast<Eigen::Index>(dim));

    IdMap ids = read_id_sections(in, n, next_id, mapped);

    // The hash family.
    // Sizes from header fields are checked against the section (itself checked against the
    // bytes left in the file) before anything is allocated.
    const auto functions =
        static_cast<std::uint64_t>(p.num_tables) * static_cast<std::uint64_t>(p.num_hashes);
    const std::uint64_t projection_values = in.begin_section<T>("PROJ");
    if (projection_values != checked_mul(dim, functions, "projection values")) {
      in.corrupt(concat("section PROJ holds ", projection_values, " values, ", dim,
                        " dimensions x ", functions, " hash functions need ", dim * functions));
    }
    typename Index::HashFunctions::ColMatrix scaled(static_cast<Eigen::Index>(dim),
                                                    static_cast<Eigen::Index>(functions));
    in.read_values(scaled.data(), projection_values);
    RowVector<T> offsets(1, static_cast<Eigen::Index>(functions));
    in.section("OFFS", offsets.data(), functions);
    if (!scaled.allFinite() || !offsets.allFinite()) {
      in.corrupt("the hash projections or offsets hold NaN or infinity");
    }

    // The tables.
    std::vector<BucketTable> tables(static_cast<std::size_t>(p.num_tables));
    std::vector<std::uint8_t> seen;
    for (std::size_t t = 0; t < tables.size(); ++t) {
      auto keys = in.section<std::uint64_t>("TKEY");
      auto starts = in.section<std::uint32_t>("TOFF");
      auto members = in.section<std::uint32_t>("TROW");
      check_table(in, t, n, keys, starts, members, seen);
      tables[t].assign(std::move(keys), std::move(starts), std::move(members));
    }

    Index index(static_cast<Eigen::Index>(dim), p);
    index.points_.validate_rows(rows, "stored rows");  // InvalidArgument -> FormatError
    index.hashes_ =
        Index::HashFunctions::from_stored(p.bucket_width, std::move(scaled), std::move(offsets));
    // Rows read in place are borrowed by the full-precision storage; Sq8Storage codes them and
    // keeps its own copy.
    constexpr bool borrows = std::is_same_v<Storage, PointSet<T, Metric>>;
    if (n > 0 && borrows && row_data != staged.data()) {
      if constexpr (borrows)
        index.points_.borrow(row_data, static_cast<Eigen::Index>(n), in.mapping());
    } else if (n > 0) {
      index.points_.append(rows);
    }
    index.tables_.swap(tables);
    index.ids_ = std::move(ids);
    return index;
  }

 private:
  // Table t must list each of the n rows exactly once, in buckets with strictly ascending keys,
  // each bucket non-empty with its rows ascending.
  static void check_table(IndexFileReader& in, std::size_t t, std::uint64_t n,
                          const std::vector<std::uint64_t>& keys,
                          const std::vector<std::uint32_t>& starts,
                          const std::vector<std::uint32_t>& members,
                          std::vector<std::uint8_t>& seen) {
    if (starts.size() != keys.size() + 1) {
      in.corrupt(concat("table ", t, " has ", keys.size(), " bucket keys but ", starts.size(),
                        " offsets (needs keys + 1)"));
    }
    if (members.size() != n) {
      in.corrupt(concat("table ", t, " lists ", members.size(), " rows, the index holds ", n));
    }
    if (starts.front() != 0 || starts.back() != n) {
      in.corrupt(concat("table ", t, " offsets run from ", starts.front(), " to ", starts.back(),
                        ", not from 0 to ", n));
    }
    for (std::size_t b = 0; b < keys.size(); ++b) {
      if (b > 0 && keys[b] <= keys[b - 1]) {
        in.corrupt(concat("table ", t, " bucket keys are not strictly ascending at bucket ", b));
      }
      if (starts[b + 1] <= starts[b]) {
        in.corrupt(concat("table ", t, " offsets are not strictly increasing at bucket ", b));
      }
    }
    seen.assign(static_cast<std::size_t>(n), 0);
    for (std::size_t b = 0; b < keys.size(); ++b) {
      for (std::uint32_t i = starts[b]; i < starts[b + 1]; ++i) {
        const std::uint32_t row = members[i];
        if (row >= n || seen[row]) {
          in.corrupt(concat("table ", t, " lists row ", row,
                            row >= n ? " beyond the " : " twice among the ", n, " rows"));
        }
        if (i > starts[b] && row <= members[i - 1]) {
          in.corrupt(concat("table ", t, " bucket ", b, " rows are not ascending"));
        }
        seen[row] = 1;
      }
    }
  }
};

}  // namespace detail
}  // namespace pstable
