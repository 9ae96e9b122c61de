#include "catch_compat.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include "pstable/core/topk.hpp"

using pstable::detail::Scored;
using pstable::detail::TopK;

TEST_CASE("TopK keeps the k smallest keys, ties by smaller id", "[topk]") {
  TopK<float> top(3);
  top.push(5, 0);
  top.push(1, 1);
  top.push(3, 2);
  top.push(1, 7);
  top.push(3, 1);  // same key as id 2 with a smaller id: replaces it
  top.push(9, 3);
  const auto best = top.take_sorted();
  REQUIRE(best.size() == 3);
  CHECK(best[0].id == 1);
  CHECK(best[1].id == 7);
  CHECK(best[2].id == 1);
  CHECK(best[2].key == 3);
}

TEST_CASE("TopK equals a full sort on random input", "[topk]") {
  std::mt19937 rng(GENERATE(1, 2, 3));
  std::uniform_int_distribution<int> key(0, 20);  // many ties
  const std::size_t k = GENERATE(1, 5, 50);
  std::vector<Scored<float>> all;
  TopK<float> top(k);
  for (int i = 0; i < 200; ++i) {
    const float s = static_cast<float>(key(rng));
    all.push_back({s, i});
    top.push(s, i);
  }
  std::sort(all.begin(), all.end(), pstable::detail::better<float>);
  const auto best = top.take_sorted();
  REQUIRE(best.size() == k);
  for (std::size_t i = 0; i < k; ++i) {
    CHECK(best[i].id == all[i].id);
    CHECK(best[i].key == all[i].key);
  }
}

TEST_CASE("TopK holds fewer than k when fewer were pushed", "[topk]") {
  TopK<double> top(4);
  CHECK(top.threshold() == std::numeric_limits<double>::infinity());
  top.push(2, 9);
  const auto best = top.take_sorted();
  REQUIRE(best.size() == 1);
  CHECK(best[0].id == 9);
}
