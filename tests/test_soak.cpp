// Model-based soak (issue 13): seeded random sequences of add / remove / compact / search /
// save+load against a brute-force model, for ExactIndex and E2LSHIndex, Euclidean and cosine. Short here (PSTABLE_SOAK_STEPS steps per sequence,
// default 150); run long by hand, e.g. PSTABLE_SOAK_STEPS=20000 build/release/tests/pstable_tests "[soak]".
//
// Checks after every search:
// - ExactIndex, and E2LSHIndex with a bucket width so large that every point shares the
//   query's bucket: the brute-force k best of the live rows (distances to rounding, ids at every
//   rank whose distance is not tied with a neighbour's).
// - E2LSHIndex with ordinary parameters: every returned id is live and distinct, its reported
//   distance is its true distance, the results are the brute-force k best among the candidates
//   the index offered to the filter (recorded through search_filtered), padded with -1.
// - save_index + load_index (copied or mapped, at random): the loaded index answers bit for bit
//   like the saved one and the sequence continues on it (a mapped one copies its rows out at
//   its first add or compact).

#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "brute_force.hpp"
#include "file_util.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

using namespace pstable;

namespace {

int soak_steps() {
  const char* env = std::getenv("PSTABLE_SOAK_STEPS");
  return env != nullptr ? std::max(1, std::atoi(env)) : 150;
}

// The model: live rows by id (double copies of what the index holds) and the next id.
struct Model {
  std::map<Id, std::vector<double>> rows;
  Id next_id = 0;
};

template <class Metric>
long double true_value(const std::vector<double>& x, const float* q, Eigen::Index dim) {
  long double dot = 0, d2 = 0, nx = 0, nq = 0;
  for (Eigen::Index j = 0; j < dim; ++j) {
    const long double a = x[static_cast<std::size_t>(j)], b = q[j];
    dot += a * b;
    d2 += (a - b) * (a - b);
    nx += a * a;
    nq += b * b;
  }
  if constexpr (std::is_same_v<Metric, Euclidean>) return std::sqrt(d2);
  return dot / std::sqrt(nx * nq);
}

// Brute force over the ids in `among` (all live rows when null): (value, id), best first, ties
// by id.
template <class Metric>
std::vector<std::pair<long double, Id>> ranked(const Model& m, const float* q, Eigen::Index dim,
                                               const std::set<Id>* among) {
  std::vector<std::pair<long double, Id>> all;
  for (const auto& [id, x] : m.rows) {
    if (among != nullptr && among->count(id) == 0) continue;
    const long double v = true_value<Metric>(x, q, dim);
    all.emplace_back(Metric::is_similarity ? -v : v, id);
  }
  std::sort(all.begin(), all.end());
  for (auto& a : all) a.first = Metric::is_similarity ? -a.first : a.first;
  return all;
}

// Row q of `got` against the brute-force ranking `want` (k or fewer entries, then -1 padding).
template <class Metric>
void check_row(const Neighbors<float>& got, Eigen::Index q, const Model& m, const float* query,
               Eigen::Index dim, const std::vector<std::pair<long double, Id>>& want) {
  const Eigen::Index k = got.k();
  const double tol = 1e-4;
  std::set<Id> seen;
  for (Eigen::Index j = 0; j < k; ++j) {
    const Id id = got.ids()(q, j);
    const double value = got.distances()(q, j);
    CAPTURE(q, j, id, value);
    if (j >= static_cast<Eigen::Index>(want.size())) {
      CHECK(id == -1);
      continue;
    }
    REQUIRE(id >= 0);
    REQUIRE(m.rows.count(id) == 1);  // live
    CHECK(seen.insert(id).second);   // distinct
    const long double truth = true_value<Metric>(m.rows.at(id), query, dim);
    CHECK(value == Approx(static_cast<double>(truth)).epsilon(tol).margin(tol));
    const long double best = want[static_cast<std::size_t>(j)].first;
    CHECK(value == Approx(static_cast<double>(best)).epsilon(tol).margin(tol));
    // The id itself must match unless its value ties (within rounding) with a neighbour's.
    const bool tied = (j > 0 && std::abs(want[j - 1].first - best) < 1e-4L) ||
                      (j + 1 < static_cast<Eigen::Index>(want.size()) &&
                       std::abs(want[j + 1].first - best) < 1e-4L);
    if (!tied) CHECK(id == want[static_cast<std::size_t>(j)].second);
  }
}

// New rows: gaussian, some exact copies of live rows (ties), some scaled copies (cosine ties).
RowMatrix<float> new_rows(std::mt19937_64& rng, const Model& m, Eigen::Index dim) {
  std::uniform_int_distribution<int> count(1, 12);
  std::normal_distribution<float> g(0, 1);
  RowMatrix<float> rows(count(rng), dim);
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    const int kind = static_cast<int>(rng() % 8);
    if (kind == 0 && !m.rows.empty()) {
      auto it = m.rows.begin();
      std::advance(it, static_cast<long>(rng() % m.rows.size()));
      for (Eigen::Index j = 0; j < dim; ++j) rows(i, j) = static_cast<float>(it->second[j]);
    } else {
      for (Eigen::Index j = 0; j < dim; ++j) rows(i, j) = g(rng);
    }
  }
  return rows;
}

RowMatrix<float> testing_queries(std::mt19937_64& rng, Eigen::Index dim, Eigen::Index n) {
  std::normal_distribution<float> g(0, 1);
  RowMatrix<float> q(n, dim);
  for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = g(rng);
  return q;
}

template <class Index>
bool same_answers(const Index& a, const Index& b, const RowMatrix<float>& queries, Eigen::Index k) {
  const auto x = a.search(queries, k), y = b.search(queries, k);
  return x.ids() == y.ids() && x.distances() == y.distances();
}

enum class Check { BruteForce, Candidates };

template <class Index, class Metric>
void soak(Index index, std::uint64_t seed, Check check) {
  constexpr bool is_lsh = !std::is_same_v<Index, ExactIndex<float, Metric>>;
  const Eigen::Index dim = index.dim();
  const int steps = soak_steps();
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  Model m;
  for (int step = 0; step < steps; ++step) {
    const int op = static_cast<int>(rng() % 100);
    CAPTURE(seed, step, op, m.rows.size());
    if (op < 30 || m.rows.empty()) {
      const RowMatrix<float> rows = new_rows(rng, m, dim);
      index.add(rows);
      for (Eigen::Index i = 0; i < rows.rows(); ++i) {
        std::vector<double> x(static_cast<std::size_t>(dim));
        for (Eigen::Index j = 0; j < dim; ++j) x[static_cast<std::size_t>(j)] = rows(i, j);
        m.rows[m.next_id++] = x;
      }
    } else if (op < 45) {
      auto it = m.rows.begin();
      std::advance(it, static_cast<long>(rng() % m.rows.size()));
      const Id id = it->first;
      index.remove(id);
      m.rows.erase(it);
      CHECK_FALSE(index.contains(id));
      CHECK_THROWS_AS(index.remove(id), InvalidArgument);  // twice: rejected, nothing changes
    } else if (op < 50) {
      index.compact();
      CHECK(index.num_removed() == 0);
    } else if (op < 55) {
      const std::string path = dir.file("soak.pst");
      save_index(index, path);
      Index loaded = load_index<Index>(path, rng() % 2 == 0 ? LoadMode::map : LoadMode::copy);
      const RowMatrix<float> probe = testing_queries(rng, dim, 5);
      const Eigen::Index k = std::min<Eigen::Index>(3, static_cast<Eigen::Index>(m.rows.size()));
      REQUIRE(same_answers(index, loaded, probe, k));
      index = std::move(loaded);
    } else {
      // 1 to 20 queries: ExactIndex takes the scan below 16 and GEMM from 16.
      const auto nq = static_cast<Eigen::Index>(1 + rng() % 20);
      RowMatrix<float> queries = testing_queries(rng, dim, nq);
      // Some queries are live rows: they must find themselves (or an equal copy) first.
      if (rng() % 2 == 0) {
        auto it = m.rows.begin();
        std::advance(it, static_cast<long>(rng() % m.rows.size()));
        for (Eigen::Index j = 0; j < dim; ++j) queries(0, j) = static_cast<float>(it->second[j]);
      }
      const auto k =
          static_cast<Eigen::Index>(1 + rng() % std::min<std::size_t>(m.rows.size(), 10));
      REQUIRE(static_cast<std::size_t>(index.size()) == m.rows.size());
      if (check == Check::BruteForce) {
        const auto got = index.search(queries, k, static_cast<int>(rng() % 3));
        for (Eigen::Index q = 0; q < nq; ++q) {
          const auto want = ranked<Metric>(m, queries.row(q).data(), dim, nullptr);
          check_row<Metric>(got, q, m, queries.row(q).data(), dim,
                            {want.begin(), want.begin() + k});
        }
      } else if constexpr (is_lsh) {
        for (Eigen::Index q = 0; q < nq; ++q) {
          std::set<Id> offered;
          const auto got = index.search_filtered(queries.row(q), k, [&](Id id) {
            offered.insert(id);
            return true;
          });
          for (Id id : offered) REQUIRE(m.rows.count(id) == 1);  // only live rows are offered
          auto want = ranked<Metric>(m, queries.row(q).data(), dim, &offered);
          want.resize(std::min<std::size_t>(want.size(), static_cast<std::size_t>(k)));
          check_row<Metric>(got, 0, m, queries.row(q).data(), dim, want);
          CHECK(got.visited()(0) == static_cast<std::int64_t>(offered.size()));
        }
      }
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("soak: ExactIndex against brute force", "[soak]", Euclidean, Cosine) {
  for (std::uint64_t seed : {1, 2})
    soak<ExactIndex<float, TestType>, TestType>(ExactIndex<float, TestType>(6), seed,
                                                Check::BruteForce);
}

TEMPLATE_TEST_CASE("soak: E2LSHIndex with huge buckets equals brute force", "[soak]", Euclidean,
                   Cosine) {
  // w = 1e9: every point lands in the query's bucket in every table, so search is exact.
  for (std::uint64_t seed : {3, 4}) {
    soak<E2LSHIndex<float, TestType>, TestType>(
        E2LSHIndex<float, TestType>(6, E2LSHParams{2, 3, 1e9, 0, seed}), seed, Check::BruteForce);
  }
}

TEMPLATE_TEST_CASE("soak: E2LSHIndex returns the best live candidates", "[soak]", Euclidean,
                   Cosine) {
  // Ordinary buckets (some points missed), multi-probe and collision counting.
  const double w = std::is_same_v<TestType, Cosine> ? 0.5 : 2.0;
  for (std::uint64_t seed : {5, 6}) {
    soak<E2LSHIndex<float, TestType>, TestType>(
        E2LSHIndex<float, TestType>(6, E2LSHParams{4, 4, w, 3, seed, 2}), seed, Check::Candidates);
    soak<E2LSHIndex<float, TestType>, TestType>(
        E2LSHIndex<float, TestType>(6, E2LSHParams{3, 6, w, 0, seed, 1}), seed + 10,
        Check::Candidates);
  }
}
