#pragma once

#include <cmath>
#include <sstream>
#include <string>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"

namespace pstable::detail {

/// Input checks shared by the public entry points. Each throws a pstable::Error subclass whose
/// message says what was wrong and what to pass instead.

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

inline void check_dimension(Eigen::Index dim) {
  if (dim <= 0) {
    throw InvalidArgument(concat("dimension must be positive, got ", dim));
  }
}

/// `what` names the argument in the message: "data", "queries", ...
template <class T>
void check_rows(const MatrixRef<T>& rows, Eigen::Index dim, const char* what) {
  if (rows.cols() != dim) {
    throw DimensionMismatch(concat(what, " has ", rows.cols(), " columns, index was built with ",
                                   dim, "; pass one point per row with ", dim, " columns"));
  }
}

template <class T>
void check_finite(const MatrixRef<T>& rows, const char* what) {
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    for (Eigen::Index j = 0; j < rows.cols(); ++j) {
      if (!std::isfinite(rows(i, j))) {
        throw InvalidData(concat(what, " row ", i, " column ", j, " is ", rows(i, j),
                                 "; remove or impute NaN and infinite values first"));
      }
    }
  }
}

template <class T>
void check_nonzero_rows(const MatrixRef<T>& rows, const char* what) {
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    if (rows.row(i).squaredNorm() == T(0)) {
      throw InvalidData(concat(what, " row ", i,
                               " is a zero vector, which has no cosine similarity; drop it or "
                               "use the Euclidean metric"));
    }
  }
}

inline void check_k(Eigen::Index k, Eigen::Index size) {
  if (k <= 0) throw InvalidArgument(concat("k must be at least 1, got ", k));
  if (size == 0) throw InvalidState("the index is empty; add points before searching");
  if (k > size) {
    throw InvalidArgument(concat("k = ", k, " exceeds the ", size,
                                 " points in the index; pass k <= size()"));
  }
}

/// 0 means one thread per hardware thread.
inline void check_threads(int num_threads) {
  if (num_threads < 0) {
    throw InvalidArgument(concat("num_threads must be >= 0 (0 = all hardware threads), got ",
                                 num_threads));
  }
}

}  // namespace pstable::detail
