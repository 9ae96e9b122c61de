#include "catch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "pstable/index/multiprobe.hpp"
#include "pstable/index/e2lsh.hpp"

using namespace pstable;

namespace {

struct Perturbation {
  std::vector<int> delta;  // -1, 0, +1 per coordinate
  double score;
};

// Every non-zero delta in {-1, 0, +1}^k with its score sum x_i(delta_i)^2, sorted by score.
std::vector<Perturbation> brute_force(const std::vector<double>& below) {
  const int k = static_cast<int>(below.size());
  int total = 1;
  for (int i = 0; i < k; ++i) total *= 3;
  std::vector<Perturbation> all;
  for (int code = 1; code < total; ++code) {
    Perturbation p{std::vector<int>(static_cast<std::size_t>(k)), 0.0};
    int c = code;
    for (int i = 0; i < k; ++i, c /= 3) {
      const int d = c % 3 == 0 ? 0 : (c % 3 == 1 ? -1 : +1);
      p.delta[static_cast<std::size_t>(i)] = d;
      if (d == -1)
        p.score += below[static_cast<std::size_t>(i)] * below[static_cast<std::size_t>(i)];
      if (d == +1)
        p.score +=
            (1 - below[static_cast<std::size_t>(i)]) * (1 - below[static_cast<std::size_t>(i)]);
    }
    all.push_back(p);
  }
  std::sort(all.begin(), all.end(),
            [](const Perturbation& a, const Perturbation& b) { return a.score < b.score; });
  return all;
}

// The generator as first written (Lv et al.'s heap, std::sort of the 2k boundaries, scores
// recomputed from the bits): the order every faster version must reproduce exactly, ties
// included. Masks are over positions sorted by (z, coordinate, delta).
class ReferenceGenerator {
 public:
  template <class T>
  void reset(const T* below, int k) {
    k_ = k;
    order_.resize(2 * static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i) {
      const double x = static_cast<double>(below[i]);
      order_[2 * static_cast<std::size_t>(i)] = {x, i, -1};
      order_[2 * static_cast<std::size_t>(i) + 1] = {1.0 - x, i, +1};
    }
    std::sort(order_.begin(), order_.end(), [](const Boundary& a, const Boundary& b) {
      return a.z < b.z || (a.z == b.z && (a.coordinate < b.coordinate ||
                                          (a.coordinate == b.coordinate && a.delta < b.delta)));
    });
    heap_.assign(1, {order_[0].z * order_[0].z, 1, 0});
  }

  bool next(std::uint64_t& mask, double& score) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), worse);
      const Set top = heap_.back();
      heap_.pop_back();
      if (top.max + 1 < 2 * k_) {
        const std::uint64_t up = std::uint64_t{1} << (top.max + 1);
        const std::uint64_t shifted = (top.mask & ~(std::uint64_t{1} << top.max)) | up;
        push({score_of(shifted), shifted, top.max + 1});
        push({score_of(top.mask | up), top.mask | up, top.max + 1});
      }
      if (valid(top.mask)) {
        mask = top.mask;
        score = top.score;
        return true;
      }
    }
    return false;
  }

  // The perturbation (-1, 0, +1 per coordinate) of a mask.
  std::vector<int> deltas(std::uint64_t mask) const {
    std::vector<int> d(static_cast<std::size_t>(k_), 0);
    for (int j = 0; j < 2 * k_; ++j) {
      if ((mask >> j) & 1)
        d[static_cast<std::size_t>(order_[static_cast<std::size_t>(j)].coordinate)] +=
            order_[static_cast<std::size_t>(j)].delta;
    }
    return d;
  }

 private:
  struct Boundary {
    double z;
    int coordinate;
    int delta;
  };
  struct Set {
    double score;
    std::uint64_t mask;
    int max;
  };
  static bool worse(const Set& a, const Set& b) {
    return a.score > b.score || (a.score == b.score && a.mask > b.mask);
  }
  double score_of(std::uint64_t mask) const {
    double s = 0;
    for (int j = 0; j < 2 * k_; ++j) {
      if ((mask >> j) & 1)
        s += order_[static_cast<std::size_t>(j)].z * order_[static_cast<std::size_t>(j)].z;
    }
    return s;
  }
  bool valid(std::uint64_t mask) const {
    std::vector<int> seen(static_cast<std::size_t>(k_), 0);
    for (int j = 0; j < 2 * k_; ++j) {
      if (((mask >> j) & 1) &&
          seen[static_cast<std::size_t>(order_[static_cast<std::size_t>(j)].coordinate)]++)
        return false;
    }
    return true;
  }
  void push(const Set& s) {
    heap_.push_back(s);
    std::push_heap(heap_.begin(), heap_.end(), worse);
  }

  int k_ = 0;
  std::vector<Boundary> order_;
  std::vector<Set> heap_;
};

// Fractions with many ties: equal values across coordinates, exact 1/2, 0 and 1, tiny values
// whose 1 - x round to 1, and (double only) 1/2 - 2^-54, whose 1 - x rounds to 1/2.
template <class T>
std::vector<T> tie_heavy(std::mt19937_64& rng, int k) {
  std::vector<T> pool = {T(0.5),   T(0.25),  T(0.75),  T(0),     T(1),
                         T(1e-20), T(2e-20), T(0.125), T(0.875), T(0.3)};
  if (std::is_same_v<T, double>) pool.push_back(static_cast<T>(0.5 - std::ldexp(1.0, -54)));
  std::vector<T> below(static_cast<std::size_t>(k));
  for (auto& b : below) b = pool[rng() % pool.size()];
  return below;
}

// The generator's masks, scores and perturbations against ReferenceGenerator's, `count` sets.
template <class T>
void check_same_sequence(const std::vector<T>& below, std::size_t count) {
  const int k = static_cast<int>(below.size());
  ReferenceGenerator ref;
  detail::PerturbationGenerator gen;
  ref.reset(below.data(), k);
  gen.reset(below.data(), k);
  std::uint64_t m1 = 0, m2 = 0;
  double s1 = 0, s2 = 0;
  std::vector<std::int32_t> slots(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < count; ++i) {
    const bool more = ref.next(m1, s1);
    CAPTURE(k, i);
    REQUIRE(gen.next(m2, s2) == more);
    if (!more) break;
    REQUIRE(m2 == m1);
    REQUIRE(s2 == s1);  // bit for bit
    std::fill(slots.begin(), slots.end(), 0);
    gen.apply(m2, slots.data(), +1);
    const auto d = ref.deltas(m1);
    REQUIRE(std::equal(d.begin(), d.end(), slots.begin()));
  }
}

}  // namespace

TEST_CASE("perturbation sets come out in score order, each valid set once", "[multiprobe]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k = 1; k <= 5; ++k) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> below(static_cast<std::size_t>(k));
      for (auto& b : below) b = u(rng);
      const auto truth = brute_force(below);
      detail::PerturbationGenerator gen;
      gen.reset(below.data(), k);
      std::vector<Perturbation> got;
      std::uint64_t mask = 0;
      double score = 0;
      while (gen.next(mask, score)) {
        std::vector<std::int32_t> slots(static_cast<std::size_t>(k), 0);
        gen.apply(mask, slots.data(), +1);
        got.push_back({std::vector<int>(slots.begin(), slots.end()), score});
        gen.apply(mask, slots.data(), -1);
        CHECK(std::all_of(slots.begin(), slots.end(), [](int s) { return s == 0; }));
      }
      CAPTURE(k, trial);
      REQUIRE(got.size() == truth.size());  // 3^k - 1: every valid set exactly once
      for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        if (i > 0) CHECK(got[i].score >= got[i - 1].score);
        CHECK(got[i].score == Approx(truth[i].score).margin(1e-12));
        // Random fractions: scores are distinct, so the order is the brute-force order.
        CHECK(got[i].delta == truth[i].delta);
      }
    }
  }
}

TEST_CASE("probe_table looks up the home bucket, then the best perturbed buckets", "[multiprobe]") {
  // Table of three buckets keyed by slot vectors; query slots (0, 0) with fractions 0.1, 0.7.
  const int k = 2;
  auto key = [&](std::int32_t a, std::int32_t b) {
    const std::int32_t s[2] = {a, b};
    return detail::slot_key(s, k);
  };
  std::vector<detail::KeyedRow> pairs = {
      {key(0, 0), 0}, {key(-1, 0), 1}, {key(0, 1), 2}, {key(-1, 1), 3}, {key(1, 0), 4}};
  std::sort(pairs.begin(), pairs.end(), detail::key_then_row);
  detail::BucketTable table;
  table.assign_sorted(pairs);
  const double f[2] = {0.1, 0.7};
  std::int32_t slots[2];
  double below[2];
  detail::PerturbationGenerator gen;
  for (int probes : {0, 1, 2, 3}) {
    std::vector<std::uint32_t> seen;
    const int probed = detail::probe_table(
        f, 0, k, probes, table, gen, slots, below,
        [&](detail::BucketTable::Range r) { seen.insert(seen.end(), r.begin, r.end); });
    CAPTURE(probes);
    CHECK(probed == probes + 1);
    // Scores: (-1, 0) 0.01; (0, +1) 0.09; (-1, +1) 0.10; (0, -1) 0.49; (+1, 0) 0.81.
    const std::vector<std::uint32_t> expected = {0, 1, 2, 3};
    CHECK(seen == std::vector<std::uint32_t>(expected.begin(), expected.begin() + probes + 1));
  }
}

TEST_CASE("bucket table finds every key and nothing else", "[multiprobe][buckets]") {
  std::mt19937_64 rng(3);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{5000}}) {
    std::vector<detail::KeyedRow> pairs;
    for (std::size_t i = 0; i < n; ++i) {
      pairs.push_back({detail::mix64(rng() % (n / 3 + 1)), static_cast<std::uint32_t>(i)});
    }
    std::sort(pairs.begin(), pairs.end(), detail::key_then_row);
    detail::BucketTable table;
    table.assign_sorted(pairs);
    CHECK(table.num_rows() == n);
    for (const auto& p : pairs) {
      const auto r = table.find(p.key);
      std::vector<std::uint32_t> expected;
      for (const auto& q : pairs) {
        if (q.key == p.key) expected.push_back(q.row);
      }
      CHECK(std::vector<std::uint32_t>(r.begin, r.end) == expected);
      if (n > 100 && p.row > 50) break;  // enough for the large table
    }
    CHECK(table.find(12345).size() == 0);
    const auto back = table.pairs();
    CHECK(back.size() == pairs.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
      CHECK((back[i].key == pairs[i].key && back[i].row == pairs[i].row));
    }
  }
}

TEST_CASE("the generator reproduces the reference order exactly, ties included", "[multiprobe]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // k <= 16 and k > 16 take different paths, float and double input too.
  for (int k : {1, 2, 3, 4, 5, 7, 12, 16, 17, 24, 32}) {
    const std::size_t count = k <= 7 ? std::numeric_limits<std::size_t>::max() : 3000;
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<double> d(static_cast<std::size_t>(k));
      std::vector<float> f(static_cast<std::size_t>(k));
      for (int i = 0; i < k; ++i) {
        d[static_cast<std::size_t>(i)] = u(rng);
        f[static_cast<std::size_t>(i)] = static_cast<float>(u(rng));
      }
      check_same_sequence(d, count);
      check_same_sequence(f, count);
      check_same_sequence(tie_heavy<double>(rng, k), count);
      check_same_sequence(tie_heavy<float>(rng, k), count);
    }
  }
}

TEST_CASE("probe keys are slot_key of the perturbed slots, in generator order", "[multiprobe]") {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal(0.0, 3.0);
  for (int k : {1, 3, 12, 16, 17, 32}) {
    const int tables = 3, probes = 50;
    std::vector<double> fd(static_cast<std::size_t>(tables * k));
    for (auto& v : fd) v = normal(rng);
    fd[0] = 2.0;              // an integer: fraction 0
    if (k > 1) fd[1] = -0.5;  // fraction exactly 1/2
    std::vector<float> ff(fd.begin(), fd.end());
    auto check = [&](const auto& f) {
      using T = typename std::decay_t<decltype(f)>::value_type;
      detail::PerturbationGenerator gen;
      ReferenceGenerator ref;
      std::vector<std::int32_t> slots(static_cast<std::size_t>(k)),
          home(static_cast<std::size_t>(k));
      std::vector<T> below(static_cast<std::size_t>(k));
      for (int t = 0; t < tables; ++t) {
        std::vector<std::uint64_t> keys;
        const int n =
            detail::probe_keys(f.data(), t, k, probes, gen, slots.data(), below.data(), keys);
        CAPTURE(k, t);
        REQUIRE(n == static_cast<int>(keys.size()));
        CHECK(keys[0] == detail::table_key(f.data(), t, k, home.data()));
        std::vector<T> fraction(static_cast<std::size_t>(k));
        for (int i = 0; i < k; ++i) {
          const T v = f[static_cast<std::size_t>(t * k + i)];
          fraction[static_cast<std::size_t>(i)] = v - std::floor(v);
        }
        ref.reset(fraction.data(), k);
        std::uint64_t mask = 0;
        double score = 0;
        for (std::size_t p = 1; p < keys.size(); ++p) {
          REQUIRE(ref.next(mask, score));
          const auto d = ref.deltas(mask);
          std::vector<std::int32_t> s = home;
          for (int i = 0; i < k; ++i)
            s[static_cast<std::size_t>(i)] += d[static_cast<std::size_t>(i)];
          CAPTURE(p);
          CHECK(keys[p] == detail::slot_key(s.data(), k));
        }
        const double neighbours = std::pow(3.0, k) - 1;
        CHECK(static_cast<double>(n) == std::min(neighbours, double(probes)) + 1);
      }
    };
    check(fd);
    check(ff);
  }
}

TEST_CASE("the generator's work is linear in the sets it emits", "[multiprobe]") {
  // Issue 13: deep probing (num_probes near 3^k) popped mostly invalid sets and grew the heap by
  // one per pop, so time grew far faster than the probes. Now each emitted set costs one pop and
  // the heap never holds more than emitted + 1 sets, even when emitting all 3^k - 1.
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k : {1, 2, 5, 8, 11}) {
    std::vector<double> below(static_cast<std::size_t>(k));
    for (auto& b : below) b = u(rng);
    detail::PerturbationGenerator gen;
    gen.reset(below.data(), k);
    std::uint64_t mask = 0;
    double score = 0;
    std::size_t emitted = 0, max_heap = 0;
    while (gen.next(mask, score)) {
      ++emitted;
      max_heap = std::max(max_heap, gen.heap_size());
      REQUIRE(gen.popped() == emitted);
      REQUIRE(gen.heap_size() <= emitted + 1);
    }
    CAPTURE(k);
    CHECK(emitted == static_cast<std::size_t>(std::pow(3.0, k)) - 1);
    CHECK(gen.popped() == emitted);
    CHECK(max_heap <= emitted);
  }
}

TEST_CASE("deep probing keeps the reference order", "[multiprobe]") {
  // The skip over invalid sets must not change the order, also deep into the sequence where
  // most sets of the plain heap walk are invalid (k = 9: all 19682 sets; k = 13: 200000).
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> below9(9), below13(13);
  for (auto& b : below9) b = u(rng);
  for (auto& b : below13) b = u(rng);
  check_same_sequence(below9, 20000);
  check_same_sequence(below13, 200000);
  std::vector<float> belowf(13);
  for (auto& b : belowf) b = static_cast<float>(u(rng));
  check_same_sequence(belowf, 200000);
}

TEST_CASE("one query's bucket lookups are bounded", "[multiprobe]") {
  // num_tables * (num_probes + 1) <= kMaxLookupsPerQuery: the largest L with the largest
  // num_probes would otherwise look up 4 billion buckets per query.
  using Index = E2LSHIndex<float, Euclidean>;
  const long long budget = detail::kMaxLookupsPerQuery;
  const auto make = [](int tables, int probes) {
    return Index(4, E2LSHParams{tables, 16, 4.0, probes});
  };
  CHECK_NOTHROW(make(4, static_cast<int>(budget / 4 - 1)));
  CHECK_THROWS_AS(make(4, static_cast<int>(budget / 4)), InvalidArgument);
  CHECK_THROWS_AS(make(E2LSHParams::kMaxTables, E2LSHParams::kMaxProbes), InvalidArgument);
  E2LSHIndex<float, Euclidean> index(4, E2LSHParams{64, 16, 4.0, 0});
  CHECK_NOTHROW(index.set_num_probes(static_cast<int>(budget / 64 - 1)));
  CHECK_THROWS_WITH(index.set_num_probes(static_cast<int>(budget / 64)),
                    Catch::Contains("bucket lookups per query"));
  CHECK(index.params().num_probes == static_cast<int>(budget / 64 - 1));
}
