#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/endian.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/validate.hpp"

// The TEXMEX .fvecs / .ivecs / .bvecs files (SIFT1M, GIST1M, ...): vector after vector, each a
// little-endian int32 dimension d followed by d float32 / int32 / uint8 values.

namespace pstable {
namespace detail {

/// Reads up to max_rows (< 0: all) vectors of element type E, converting each value to Out.
template <class Out, class E>
RowMatrix<Out> read_vecs(const std::string& path, Eigen::Index max_rows, const char* ext) {
  if (max_rows < -1) {
    throw InvalidArgument(concat("max_rows must be -1 (all) or >= 0, got ", max_rows));
  }
  InputFile file(path);
  if (file.size() == 0 || max_rows == 0) return RowMatrix<Out>(0, 0);
  unsigned char head[4];
  file.read(head, 4, "the first vector's dimension");
  const auto dim = load_le<std::int32_t>(head);
  if (dim <= 0) {
    throw FormatError(concat("'", path, "' is not a valid ", ext,
                             " file: the first vector's "
                             "dimension is ",
                             dim, " (each vector starts with a positive int32 dimension)"));
  }
  const std::uint64_t record = 4 + static_cast<std::uint64_t>(dim) * sizeof(E);
  if (file.size() < record) {
    throw FormatError(concat("'", path, "' is truncated: the first vector has ", dim,
                             " dimensions (", record, " bytes) but the file has ", file.size(),
                             " bytes"));
  }
  std::uint64_t rows = file.size() / record;
  if (max_rows >= 0) rows = std::min<std::uint64_t>(rows, static_cast<std::uint64_t>(max_rows));
  RowMatrix<Out> out(static_cast<Eigen::Index>(rows), dim);
  file.seek(0);

  std::vector<unsigned char> buffer;
  const std::uint64_t per_chunk = std::max<std::uint64_t>(1, (std::uint64_t(1) << 20) / record);
  for (std::uint64_t r0 = 0; r0 < rows; r0 += per_chunk) {
    const auto n = std::min(per_chunk, rows - r0);
    buffer.resize(static_cast<std::size_t>(n * record));
    file.read(buffer.data(), buffer.size(), "vector data");
    for (std::uint64_t i = 0; i < n; ++i) {
      const unsigned char* p = buffer.data() + i * record;
      const auto d = load_le<std::int32_t>(p);
      if (d != dim) {
        throw FormatError(concat("'", path, "' is not a valid ", ext, " file: vector ", r0 + i,
                                 " has ", d, " dimensions, the first has ", dim,
                                 " (all vectors must have the same dimension)"));
      }
      Out* row = out.row(static_cast<Eigen::Index>(r0 + i)).data();
      for (std::int32_t j = 0; j < dim; ++j)
        row[j] = static_cast<Out>(load_le<E>(p + 4 + static_cast<std::size_t>(j) * sizeof(E)));
    }
  }
  const bool wanted_all = max_rows < 0 || rows < static_cast<std::uint64_t>(max_rows);
  if (wanted_all && file.remaining() != 0) {
    throw FormatError(concat("'", path, "' is truncated: it ends ", file.remaining(),
                             " bytes into vector ", rows, " (", record, " bytes each with ", dim,
                             " dimensions), or its vectors have different dimensions"));
  }
  return out;
}

}  // namespace detail

/// Reads a .fvecs file (float32 vectors), converted to T: one vector per row. `max_rows` >= 0
/// reads only the first vectors. An empty file gives a 0 x 0 matrix. Throws FormatError if a
/// vector's dimension differs from the first or the file ends inside a vector.
template <class T>
RowMatrix<T> read_fvecs(const std::string& path, Eigen::Index max_rows = -1) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "read_fvecs<float|double>");
  return detail::read_vecs<T, float>(path, max_rows, ".fvecs");
}

/// Reads a .ivecs file (int32 vectors, e.g. ground-truth neighbour ids): one vector per row.
inline RowMatrix<std::int32_t> read_ivecs(const std::string& path, Eigen::Index max_rows = -1) {
  return detail::read_vecs<std::int32_t, std::int32_t>(path, max_rows, ".ivecs");
}

/// Reads a .bvecs file (uint8 vectors, e.g. SIFT1B), converted to T: one vector per row.
template <class T>
RowMatrix<T> read_bvecs(const std::string& path, Eigen::Index max_rows = -1) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "read_bvecs<float|double>");
  return detail::read_vecs<T, std::uint8_t>(path, max_rows, ".bvecs");
}

}  // namespace pstable
