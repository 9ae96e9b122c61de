#pragma once

// The study's inputs: base set, queries, labels and distractors, read by pstable's readers
// (include/pstable/io/): IDX (`.gz` or plain, Fashion-MNIST's format), `.npy` and `.fvecs`.

#include <cstdint>
#include <string>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/eval/labels.hpp"
#include "pstable/io/idx.hpp"
#include "pstable/io/npy.hpp"
#include "pstable/io/vecs.hpp"

namespace study {

using pstable::Label;
using Matrix = pstable::RowMatrix<float>;

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Points of a `.npy` (float16/32/64 or uint8, one point per row), `.fvecs` or IDX image file
/// (any other name, gzip or plain), as floats multiplied by `scale`.
inline Matrix load_matrix(const std::string& path, float scale) {
  Matrix m;
  if (ends_with(path, ".npy"))
    m = pstable::read_npy<float>(path);
  else if (ends_with(path, ".fvecs"))
    m = pstable::read_fvecs<float>(path);
  else
    m = pstable::read_idx_images<float>(path, /*scale=*/false);
  if (scale != 1.0f) m *= scale;
  return m;
}

/// Labels of a `.npy` (1-D int32/int64/uint8) or IDX label file.
inline std::vector<Label> load_labels(const std::string& path) {
  if (ends_with(path, ".npy")) {
    const auto labels = pstable::read_npy_labels(path);
    return {labels.begin(), labels.end()};
  }
  if (ends_with(path, ".fvecs")) {
    throw pstable::InvalidArgument(path + ": labels come as .npy or IDX files, not .fvecs");
  }
  const auto labels = pstable::read_idx_labels(path);
  return {labels.begin(), labels.end()};
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
