#pragma once

#include <type_traits>

#include "pstable/metric/cosine.hpp"
#include "pstable/metric/euclidean.hpp"
#include "pstable/metric/inner_product.hpp"

namespace pstable {

/// True for the metric tags pstable knows; indexes static_assert on it.
template <class M>
inline constexpr bool is_metric_v = std::is_same_v<M, Euclidean> || std::is_same_v<M, Cosine> ||
                                    std::is_same_v<M, InnerProduct>;

}  // namespace pstable
