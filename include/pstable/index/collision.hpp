#pragma once

#include <cmath>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable {

/// Probability that one Gaussian p-stable hash floor((a.p + b) / w) puts two points at distance
/// c in the same slot (Datar et al. 2004): with x = w / c,
///   p = 1 - 2 Phi(-x) - 2 / (sqrt(2 pi) x) (1 - exp(-x^2 / 2)).
/// c = 0 gives 1. Throws InvalidArgument unless c >= 0 and w > 0 are finite.
inline double collision_probability(double c, double w) {
  if (!std::isfinite(c) || c < 0) {
    throw InvalidArgument(detail::concat("distance c must be finite and >= 0, got ", c));
  }
  if (!std::isfinite(w) || !(w > 0)) {
    throw InvalidArgument(detail::concat("bucket width w must be finite and > 0, got ", w));
  }
  if (c == 0) return 1.0;
  const double x = w / c;
  const double pi = 3.14159265358979323846;
  // 2 Phi(-x) = erfc(x / sqrt 2)
  const double p = 1.0 - std::erfc(x / std::sqrt(2.0)) -
                   2.0 / (std::sqrt(2.0 * pi) * x) * (1.0 - std::exp(-x * x / 2.0));
  return p < 0 ? 0.0 : (p > 1 ? 1.0 : p);
}

/// Probability that a point at distance c shares the query's bucket in one table of k hashes:
/// p(c)^k.
inline double table_collision_probability(double c, double w, int k) {
  if (k < 1) throw InvalidArgument(detail::concat("k must be >= 1, got ", k));
  return std::pow(collision_probability(c, w), k);
}

/// Probability that plain E2LSH (no multi-probe) with L tables of k hashes finds a point at
/// distance c: 1 - (1 - p(c)^k)^L.
inline double success_probability(double c, double w, int k, int L) {
  if (L < 1) throw InvalidArgument(detail::concat("L must be >= 1, got ", L));
  return 1.0 - std::pow(1.0 - table_collision_probability(c, w, k), L);
}

/// Tables needed so that a point at distance c is found with probability >= target (plain
/// E2LSH): ceil(log(1 - target) / log(1 - p(c)^k)). Returns -1 when the hashes never collide.
inline int tables_needed(double c, double w, int k, double target) {
  if (!(target > 0 && target < 1)) {
    throw InvalidArgument(detail::concat("target probability must be in (0, 1), got ", target));
  }
  const double pk = table_collision_probability(c, w, k);
  if (pk <= 0) return -1;
  if (pk >= 1) return 1;
  return static_cast<int>(std::ceil(std::log(1.0 - target) / std::log(1.0 - pk)));
}

}  // namespace pstable
