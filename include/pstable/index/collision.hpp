#pragma once

#include <cmath>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/families.hpp"

namespace pstable {

/// Probability that one p-stable hash floor((a.p + b) / w) puts two points at distance c in the
/// same slot (Datar et al. 2004), for the family `Stable`: Gaussian (p = 2, Euclidean distance,
/// the default) or Cauchy (p = 1, Manhattan distance). c = 0 gives 1. Throws InvalidArgument
/// unless c >= 0 and w > 0 are finite.
template <class Stable = Gaussian>
double collision_probability(double c, double w) {
  if (!std::isfinite(c) || c < 0) {
    throw InvalidArgument(detail::concat("distance c must be finite and >= 0, got ", c));
  }
  if (!std::isfinite(w) || !(w > 0)) {
    throw InvalidArgument(detail::concat("bucket width w must be finite and > 0, got ", w));
  }
  const double p = Stable::collision_probability(c, w);
  return p < 0 ? 0.0 : (p > 1 ? 1.0 : p);
}

/// Probability that a point at distance c shares the query's bucket in one table of k hashes:
/// p(c)^k.
template <class Stable = Gaussian>
double table_collision_probability(double c, double w, int k) {
  if (k < 1) throw InvalidArgument(detail::concat("k must be >= 1, got ", k));
  return std::pow(collision_probability<Stable>(c, w), k);
}

/// Probability that plain E2LSH (no multi-probe) with L tables of k hashes finds a point at
/// distance c: 1 - (1 - p(c)^k)^L.
template <class Stable = Gaussian>
double success_probability(double c, double w, int k, int L) {
  if (L < 1) throw InvalidArgument(detail::concat("L must be >= 1, got ", L));
  return 1.0 - std::pow(1.0 - table_collision_probability<Stable>(c, w, k), L);
}

/// Tables needed so that a point at distance c is found with probability >= target (plain
/// E2LSH): ceil(log(1 - target) / log(1 - p(c)^k)). Returns -1 when the hashes never collide.
template <class Stable = Gaussian>
int tables_needed(double c, double w, int k, double target) {
  if (!(target > 0 && target < 1)) {
    throw InvalidArgument(detail::concat("target probability must be in (0, 1), got ", target));
  }
  const double pk = table_collision_probability<Stable>(c, w, k);
  if (pk <= 0) return -1;
  if (pk >= 1) return 1;
  return static_cast<int>(std::ceil(std::log(1.0 - target) / std::log(1.0 - pk)));
}

}  // namespace pstable
