#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/detail/id_map.hpp"
#include "pstable/io/index_stream.hpp"

namespace pstable::detail {

/// The id sections both index kinds write after ROWS (docs/file-format.md): DELS, one u8
/// tombstone per row (1 = removed), and IDMP, one i64 id per row once a compaction made an id
/// map (empty otherwise). The next id (i64) and the id-map flag (u8) are parameters.
inline void write_id_sections(const IdMap& ids, IndexFileWriter& out) {
  out.section("DELS", ids.tombstones());
  out.section("IDMP", ids.has_id_map() ? ids.ids() : std::vector<Id>{});
}

/// Reads DELS and IDMP for `rows` rows and checks them with the parameters read before
/// (IdMap::restore) and the header's point count (the rows not removed); FormatError otherwise.
/// Allocates only what the sections hold (their sizes are checked against the file first).
inline IdMap read_id_sections(IndexFileReader& in, std::uint64_t rows, std::int64_t next_id,
                              std::uint8_t id_map_flag) {
  if (id_map_flag > 1) in.corrupt(concat("the id-map flag is ", int(id_map_flag), ", not 0 or 1"));
  std::vector<std::uint8_t> removed(static_cast<std::size_t>(rows));
  in.section("DELS", removed.data(), rows);
  std::vector<Id> ids = in.section<Id>("IDMP");
  IdMap map;
  std::string problem;
  if (!IdMap::restore(next_id, id_map_flag == 1, std::move(removed), std::move(ids), map,
                      problem)) {
    in.corrupt(problem);
  }
  const auto removed_rows = static_cast<std::uint64_t>(map.num_removed());
  if (in.header().count != rows - removed_rows) {
    in.corrupt(concat("the header counts ", in.header().count, " points but the file holds ", rows,
                      " rows of which ", removed_rows, " are removed"));
  }
  return map;
}

}  // namespace pstable::detail
