#pragma once

#include <cmath>

#include "pstable/index/hashing.hpp"
#include "pstable/index/lsh_family.hpp"
#include "pstable/metric/manhattan.hpp"

namespace pstable {

/// The 1-stable (Cauchy) hash family (Datar et al. 2004, p = 1): projections with standard
/// Cauchy coordinates, so a.p - a.q is distributed as ||p - q||_1 times a standard Cauchy
/// variable. It hashes Manhattan (L1) distance. The heavy tails make some projections very large;
/// slots beyond the int32 range share the extreme slots (detail::to_slot).
struct Cauchy {
  static constexpr const char* name = "cauchy";
  static constexpr double stability = 1;

  /// One projection coordinate: tan(pi (u - 1/2)) for u uniform in (0, 1).
  static double draw(detail::SplitMix64& rng) noexcept {
    const double pi = 3.14159265358979323846;
    const double u = 0.5 * 0x1.0p-53 + rng.uniform();  // in (0, 1): tan stays finite
    return std::tan(pi * (u - 0.5));
  }

  /// Probability that one hash puts two points at L1 distance c in the same slot: with
  /// x = w / c, p = 2 atan(x) / pi - ln(1 + x^2) / (pi x).
  static double collision_probability(double c, double w) noexcept {
    if (c == 0) return 1.0;
    const double x = w / c;
    const double pi = 3.14159265358979323846;
    return 2.0 * std::atan(x) / pi - std::log1p(x * x) / (pi * x);
  }
};

template <>
struct LshFamilyOf<Manhattan> {
  using type = Cauchy;
};

}  // namespace pstable
