#pragma once

#include <cmath>

#include "pstable/index/hashing.hpp"
#include "pstable/index/lsh_family.hpp"
#include "pstable/metric/cosine.hpp"
#include "pstable/metric/euclidean.hpp"

namespace pstable {

/// The 2-stable (Gaussian) hash family of E2LSH (Datar et al. 2004): projections a ~ N(0, I), so
/// a.p - a.q is distributed as ||p - q||_2 N(0, 1). It hashes Euclidean distance, and cosine on
/// unit vectors.
struct Gaussian {
  static constexpr const char* name = "gaussian";
  static constexpr double stability = 2;  ///< p of the p-stable distribution

  /// One projection coordinate (Box-Muller normals from the portable generator).
  static double draw(detail::SplitMix64& rng) noexcept { return rng.normal(); }

  /// Probability that one hash floor((a.p + b) / w) puts two points at distance c in the same
  /// slot: with x = w / c, p = 1 - 2 Phi(-x) - 2 / (sqrt(2 pi) x) (1 - exp(-x^2 / 2)).
  static double collision_probability(double c, double w) noexcept {
    if (c == 0) return 1.0;
    const double x = w / c;
    const double pi = 3.14159265358979323846;
    // 2 Phi(-x) = erfc(x / sqrt 2)
    return 1.0 - std::erfc(x / std::sqrt(2.0)) -
           2.0 / (std::sqrt(2.0 * pi) * x) * (1.0 - std::exp(-x * x / 2.0));
  }
};

template <>
struct LshFamilyOf<Euclidean> {
  using type = Gaussian;
};
template <>
struct LshFamilyOf<Cosine> {
  using type = Gaussian;
};

}  // namespace pstable
