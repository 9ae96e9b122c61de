#pragma once

// The study's inputs: base set, queries, labels and distractors.
//
// TODO(after merging branches bench and files): replace read_idx_private() by pstable::io's
// read_idx_images / read_idx_labels (branch bench) and route .npy / .fvecs paths to read_npy /
// read_fvecs (branch files) in load_matrix() and load_labels(). This private loader exists only
// so the study runs before those branches merge.

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/eval/labels.hpp"

namespace study {

using pstable::Label;
using Matrix = pstable::RowMatrix<float>;

/// An IDX file of unsigned bytes (MNIST layout), optionally gzip-compressed: its dimensions and
/// values. zlib's gzread reads uncompressed files as they are.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> values;
};

inline IdxArray read_idx_private(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw pstable::IoError("cannot open " + path + "; check the path");
  const auto read = [&](void* out, unsigned bytes) {
    if (gzread(file, out, bytes) != static_cast<int>(bytes)) {
      gzclose(file);
      throw pstable::FormatError(path + " is truncated; download or copy it again");
    }
  };
  unsigned char magic[4];
  read(magic, 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    gzclose(file);
    throw pstable::FormatError(path + " is not an IDX file of unsigned bytes (bad magic)");
  }
  IdxArray array;
  std::int64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char be[4];
    read(be, 4);
    const std::int64_t n = (std::int64_t{be[0]} << 24) | (be[1] << 16) | (be[2] << 8) | be[3];
    array.dims.push_back(n);
    count *= n;
  }
  array.values.resize(static_cast<std::size_t>(count));
  constexpr std::int64_t kChunk = 1 << 28;
  for (std::int64_t done = 0; done < count; done += kChunk) {
    read(array.values.data() + done, static_cast<unsigned>(std::min(kChunk, count - done)));
  }
  gzclose(file);
  return array;
}

/// Images (rows) of an IDX file as floats multiplied by `scale`.
inline Matrix load_matrix(const std::string& path, float scale) {
  const auto array = read_idx_private(path);
  if (array.dims.size() < 2) throw pstable::FormatError(path + " holds labels, not images");
  std::int64_t cols = 1;
  for (std::size_t d = 1; d < array.dims.size(); ++d) cols *= array.dims[d];
  Matrix m(array.dims[0], cols);
  for (std::size_t i = 0; i < array.values.size(); ++i) m.data()[i] = array.values[i] * scale;
  return m;
}

inline std::vector<Label> load_labels(const std::string& path) {
  const auto array = read_idx_private(path);
  if (array.dims.size() != 1) throw pstable::FormatError(path + " holds images, not labels");
  return {array.values.begin(), array.values.end()};
}

/// Everything one study searches: the database (base rows, then distractor rows), its labels
/// (distractors: kUnlabelled) and the labelled queries.
struct Dataset {
  Matrix base;
  std::vector<Label> base_labels;
  Eigen::Index num_distractors = 0;
  Matrix queries;
  std::vector<Label> query_labels;
};

inline void check_rows(const Matrix& m, std::size_t labels, const std::string& what) {
  if (static_cast<std::size_t>(m.rows()) != labels) {
    throw pstable::DimensionMismatch(pstable::detail::concat(
        what, " has ", m.rows(), " rows but ", labels, " labels; pass matching files"));
  }
}

}  // namespace study
