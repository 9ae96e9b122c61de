#pragma once

// An independent oracle for tests: full sort of straightforward scalar distances in long double.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/metric/traits.hpp"

namespace testing {

struct Hit {
  pstable::Id id;
  long double value;  // distance (Euclidean) or similarity (cosine, ip)
};

template <class Metric, class T>
std::vector<Hit> brute_force(const pstable::RowMatrix<T>& data, const pstable::RowVector<T>& q,
                             std::size_t k) {
  std::vector<Hit> hits;
  for (Eigen::Index i = 0; i < data.rows(); ++i) {
    long double dot = 0, d2 = 0, d1 = 0, nx = 0, nq = 0;
    for (Eigen::Index j = 0; j < data.cols(); ++j) {
      const long double x = data(i, j), y = q(j);
      dot += x * y;
      d2 += (x - y) * (x - y);
      d1 += x < y ? y - x : x - y;
      nx += x * x;
      nq += y * y;
    }
    long double value = d2;
    if constexpr (std::is_same_v<Metric, pstable::Euclidean>) value = std::sqrt(d2);
    if constexpr (std::is_same_v<Metric, pstable::Cosine>) value = dot / std::sqrt(nx * nq);
    if constexpr (std::is_same_v<Metric, pstable::InnerProduct>) value = dot;
    if constexpr (std::is_same_v<Metric, pstable::Manhattan>) value = d1;
    hits.push_back({i, value});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return Metric::is_similarity ? a.value > b.value : a.value < b.value;
  });
  hits.resize(std::min(k, hits.size()));
  return hits;
}

}  // namespace testing
