#include "catch_compat.hpp"

#include <cmath>
#include <limits>
#include <random>

#include "pstable/index/collision.hpp"

using namespace pstable;

TEST_CASE("collision probability matches the published values", "[collision]") {
  CHECK(collision_probability(1.0, 4.0) == Approx(0.8005).margin(5e-5));
  CHECK(collision_probability(2.0, 4.0) == Approx(0.6095).margin(5e-5));
  CHECK(collision_probability(0.0, 4.0) == 1.0);
  // Only x = w / c matters, and p falls as the distance grows.
  CHECK(collision_probability(3.0, 12.0) == Approx(collision_probability(1.0, 4.0)));
  CHECK(collision_probability(1.5, 4.0) > collision_probability(1.6, 4.0));
  CHECK(table_collision_probability(1.0, 4.0, 3) == Approx(std::pow(0.80052, 3)).epsilon(1e-4));
  CHECK(success_probability(1.0, 4.0, 3, 5) ==
        Approx(1 - std::pow(1 - std::pow(collision_probability(1.0, 4.0), 3), 5)));
  const int L = tables_needed(2.0, 4.0, 4, 0.9);
  CHECK(success_probability(2.0, 4.0, 4, L) >= 0.9);
  CHECK(success_probability(2.0, 4.0, 4, L - 1) < 0.9);
}

namespace {

// Share of 200,000 simulated pairs at distance c, a.(p - q) = c X with X drawn from `stable`,
// whose shifted projections fall in the same slot of width w.
template <class Distribution>
double simulated_collisions(std::mt19937_64& rng, Distribution& stable, double c, double w) {
  std::uniform_real_distribution<double> offset(0.0, w);
  const int trials = 200000;
  int hits = 0;
  for (int i = 0; i < trials; ++i) {
    const double b = offset(rng);
    const double x = c * stable(rng);
    hits += std::floor((x + b) / w) == std::floor(b / w);
  }
  return static_cast<double>(hits) / trials;
}

}  // namespace

TEST_CASE("collision probability agrees with a Monte-Carlo estimate", "[collision]") {
  // Two points at distance c: a.(p - q) ~ c N(0, 1); they collide when the shifted projections
  // fall in the same slot of width w.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const double w = 4.0;
  for (double c : {0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(c);
    CHECK(simulated_collisions(rng, normal, c, w) ==
          Approx(collision_probability(c, w)).margin(0.005));
  }
}

TEST_CASE("the Cauchy (1-stable) collision probability agrees with a Monte-Carlo estimate",
          "[collision]") {
  // Two points at L1 distance c: a.(p - q) ~ c Cauchy(0, 1) for Cauchy coordinates (1-stability).
  std::mt19937_64 rng(11);
  std::cauchy_distribution<double> cauchy;
  const double w = 4.0;
  for (double c : {0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(c);
    CHECK(simulated_collisions(rng, cauchy, c, w) ==
          Approx(collision_probability<Cauchy>(c, w)).margin(0.005));
  }
  // Closed form at x = w / c = 1: 2 atan(1) / pi - ln 2 / pi = 1/2 - 0.2206356
  CHECK(collision_probability<Cauchy>(4.0, 4.0) ==
        Approx(0.5 - std::log(2.0) / 3.14159265358979323846));
  CHECK(collision_probability<Cauchy>(0.0, 4.0) == 1.0);
}

TEST_CASE("collision helpers reject bad input", "[collision][errors]") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(collision_probability(-1.0, 4.0), InvalidArgument);
  CHECK_THROWS_AS(collision_probability(std::nan(""), 4.0), InvalidArgument);
  CHECK_THROWS_AS(collision_probability(1.0, 0.0), InvalidArgument);
  CHECK_THROWS_AS(collision_probability(1.0, inf), InvalidArgument);
  CHECK_THROWS_AS(table_collision_probability(1.0, 4.0, 0), InvalidArgument);
  CHECK_THROWS_AS(success_probability(1.0, 4.0, 2, 0), InvalidArgument);
  CHECK_THROWS_AS(tables_needed(1.0, 4.0, 2, 1.0), InvalidArgument);
}
