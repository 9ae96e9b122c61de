#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

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

/// Largest Euclidean norm a row (data or query) may have: sqrt(max) / 4 of the scalar type,
/// 4.6e18 for float and 3.4e153 for double. Then every squared norm, squared distance
/// (<= (|x| + |q|)^2 <= max / 4) and inner product (<= max / 16) a search computes, and every
/// partial sum of one, is finite, whichever path (SIMD scan or GEMM) computes it.
template <class T>
T max_row_norm() noexcept {
  return std::sqrt(std::numeric_limits<T>::max()) / T(4);
}

/// Smallest norm a non-zero row may have under cosine: 4 sqrt(min normal), 4.3e-19 for float
/// and 6e-154 for double. Then the squared norm, from which cosine takes the row's length, is a
/// normal number with full precision (below it the square underflows to a subnormal or 0).
template <class T>
T min_cosine_norm() noexcept {
  return T(4) * std::sqrt(std::numeric_limits<T>::min());
}

/// The Euclidean norm of row i of `rows` (finite values), without overflow or underflow: float
/// squares summed in double; double squares summed directly, and if that overflowed or came
/// near the subnormals, again scaled by the largest magnitude. Accurate to a few ulps.
template <class T>
T safe_row_norm(const MatrixRef<T>& rows, Eigen::Index i) noexcept {
  using Wide = std::conditional_t<std::is_same_v<T, float>, double, T>;
  const Eigen::Index n = rows.cols();
  Wide sum = 0;
  for (Eigen::Index j = 0; j < n; ++j) sum += Wide(rows(i, j)) * Wide(rows(i, j));
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<T>(std::sqrt(sum));  // inf above FLT_MAX, which compares as too large
  } else {
    const T tiny = std::numeric_limits<T>::min() / std::numeric_limits<T>::epsilon();
    if (std::isfinite(sum) && sum > tiny) return std::sqrt(sum);
    T scale = 0;
    for (Eigen::Index j = 0; j < n; ++j) scale = std::max(scale, std::abs(rows(i, j)));
    if (scale == T(0)) return 0;
    T scaled = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const T r = rows(i, j) / scale;
      scaled += r * r;
    }
    return scale * std::sqrt(scaled);  // scaled in [1, n]: overflows only past max, to inf
  }
}

/// Throws InvalidData naming the first row whose magnitude the metric cannot compute with:
/// a norm above max_row_norm (squares and products would overflow to inf, and the SIMD scan
/// and the GEMM batch would disagree), or under cosine a non-zero norm below min_cosine_norm
/// (its squared norm underflows). Zero rows are left to check_nonzero_rows. Rows must be finite.
template <class T, class Metric>
void check_magnitude(const MatrixRef<T>& rows, const char* what) {
  const T high = max_row_norm<T>();
  const T low = Metric::normalizes ? min_cosine_norm<T>() : T(0);
  const char* type = std::is_same_v<T, float> ? "float32" : "float64";
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    const T norm = safe_row_norm(rows, i);
    if (norm > high) {
      throw InvalidData(concat(what, " row ", i, " has norm ", norm, ", above the ", high, " that ",
                               type,
                               " distances and products can be computed for "
                               "without overflow; scale the data down (or use float64)"));
    }
    if (norm > T(0) && norm < low) {
      throw InvalidData(concat(what, " row ", i, " has norm ", norm, ", below the ", low,
                               " whose square ", type,
                               " still holds exactly enough for cosine; "
                               "scale the row up (cosine ignores length)"));
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

/// add(rows, ids) takes one id per row.
inline void check_id_count(std::size_t ids, Eigen::Index rows) {
  if (static_cast<Eigen::Index>(ids) != rows) {
    throw InvalidArgument(concat("add got ", rows, " rows but ", ids, " ids; pass one id per row"));
  }
}

/// k may exceed the index size: the slots past the points found are padded (detail::write_row).
inline void check_k(Eigen::Index k, Eigen::Index size) {
  if (k <= 0) throw InvalidArgument(concat("k must be at least 1, got ", k));
  if (size == 0) throw InvalidState("the index is empty; add points before searching");
}

/// Most bucket lookups one query may make, num_tables * (num_probes + 1): about 4 million, a few
/// seconds per query (multi-probe's work is linear in the probes). Without this bound the largest
/// accepted L and num_probes would make one query look up 4 billion buckets, for an hour.
inline constexpr long long kMaxLookupsPerQuery = 1LL << 22;

/// Throws InvalidArgument unless tables * (probes + 1) <= kMaxLookupsPerQuery.
inline void check_probe_budget(int tables, int probes) {
  const long long lookups = static_cast<long long>(tables) * (static_cast<long long>(probes) + 1);
  if (lookups > kMaxLookupsPerQuery) {
    throw InvalidArgument(concat("num_tables * (num_probes + 1) = ", tables, " * (", probes,
                                 " + 1) bucket lookups per query exceed the ", kMaxLookupsPerQuery,
                                 " allowed; use fewer probes or tables"));
  }
}

/// 0 means the global default (pstable::get_num_threads()).
inline void check_threads(int num_threads) {
  if (num_threads < 0) {
    throw InvalidArgument(
        concat("num_threads must be >= 0 (0 = the default, pstable::get_num_threads()), got ",
               num_threads));
  }
}

}  // namespace pstable::detail
