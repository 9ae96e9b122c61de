#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "pstable/index/multiprobe.hpp"

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
      if (d == -1) p.score += below[static_cast<std::size_t>(i)] * below[static_cast<std::size_t>(i)];
      if (d == +1) p.score += (1 - below[static_cast<std::size_t>(i)]) * (1 - below[static_cast<std::size_t>(i)]);
    }
    all.push_back(p);
  }
  std::sort(all.begin(), all.end(),
            [](const Perturbation& a, const Perturbation& b) { return a.score < b.score; });
  return all;
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
  std::vector<detail::KeyedRow> pairs = {{key(0, 0), 0}, {key(-1, 0), 1}, {key(0, 1), 2},
                                         {key(-1, 1), 3}, {key(1, 0), 4}};
  std::sort(pairs.begin(), pairs.end(), detail::key_then_row);
  detail::BucketTable table;
  table.assign_sorted(pairs);
  const double f[2] = {0.1, 0.7};
  std::int32_t slots[2];
  double below[2];
  detail::PerturbationGenerator gen;
  for (int probes : {0, 1, 2, 3}) {
    std::vector<std::uint32_t> seen;
    const int probed = detail::probe_table(f, 0, k, probes, table, gen, slots, below,
                                           [&](detail::BucketTable::Range r) {
                                             seen.insert(seen.end(), r.begin, r.end);
                                           });
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
