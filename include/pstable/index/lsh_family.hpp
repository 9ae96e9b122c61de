#pragma once

#include <type_traits>

namespace pstable {

/// The p-stable hash family E2LSHIndex uses for a metric (`using type = Gaussian;`), specialised
/// beside each family (index/gaussian.hpp, index/cauchy.hpp; index/families.hpp lists them).
/// Metrics without one (inner product) have none, and E2LSHIndex rejects them at compile time.
template <class Metric>
struct LshFamilyOf {};

/// True when E2LSHIndex supports `Metric`.
template <class Metric, class = void>
inline constexpr bool has_lsh_family_v = false;
template <class Metric>
inline constexpr bool has_lsh_family_v<Metric, std::void_t<typename LshFamilyOf<Metric>::type>> =
    true;

}  // namespace pstable
