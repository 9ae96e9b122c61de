#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "pstable/config.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/hashing.hpp"

namespace pstable::detail {

/// Query-directed multi-probe (Lv, Josephson, Wang, Charikar, Li, VLDB 2007) for one table.
///
/// For slot values h_i = floor(f_i), x_i(-1) = f_i - h_i and x_i(+1) = 1 - x_i(-1) are the
/// distances (in units of w) to the two neighbouring slots. The 2k values, sorted ascending, are
/// z_1..z_2k; a perturbation set is a set of positions scored by sum z_j^2 and is valid when no
/// coordinate occurs twice. A min-heap seeded with {1} pops the best set, pushes shift(A) (max
/// replaced by max + 1) and expand(A) (max + 1 added), and emits the popped set if valid: every
/// set is generated exactly once, in non-decreasing score.
class PerturbationGenerator {
 public:
  static constexpr int kMaxCoordinates = 32;  // 2k positions fit a 64-bit mask

  /// Starts a new sequence for slot fractions x_i(-1) = below[i], i < k.
  template <class T>
  void reset(const T* below, int k) {
    PSTABLE_ASSERT(k >= 1 && k <= kMaxCoordinates);
    k_ = k;
    order_.resize(2 * static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i) {
      const double x = static_cast<double>(below[i]);
      order_[2 * i] = {x, i, -1};
      order_[2 * i + 1] = {1.0 - x, i, +1};
    }
    std::sort(order_.begin(), order_.end(), [](const Boundary& a, const Boundary& b) {
      return a.z < b.z || (a.z == b.z && (a.coordinate < b.coordinate ||
                                          (a.coordinate == b.coordinate && a.delta < b.delta)));
    });
    squares_.resize(order_.size());
    for (std::size_t j = 0; j < order_.size(); ++j) squares_[j] = order_[j].z * order_[j].z;
    heap_.clear();
    heap_.push_back({squares_[0], 1, 0});
  }

  /// The next valid perturbation set, as a mask over sorted positions; false when all
  /// 3^k - 1 sets were emitted.
  bool next(std::uint64_t& mask, double& score) {
    const int positions = 2 * k_;
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), worse);
      const Set top = heap_.back();
      heap_.pop_back();
      if (top.max + 1 < positions) {
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

  /// Coordinate and direction (-1 or +1) of sorted position j.
  int coordinate(int j) const noexcept { return order_[static_cast<std::size_t>(j)].coordinate; }
  int delta(int j) const noexcept { return order_[static_cast<std::size_t>(j)].delta; }

  /// Adds (sign = +1) or undoes (sign = -1) the perturbation `mask` on `slots`.
  void apply(std::uint64_t mask, std::int32_t* slots, int sign) const noexcept {
    while (mask != 0) {
      const int j = lowest_bit(mask);
      mask &= mask - 1;
      slots[coordinate(j)] += sign * delta(j);
    }
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

  // Heap order: the root is the smallest score (ties: smaller mask), so the generation order is
  // fully determined.
  static bool worse(const Set& a, const Set& b) noexcept {
    return a.score > b.score || (a.score == b.score && a.mask > b.mask);
  }

  static int lowest_bit(std::uint64_t m) noexcept { return __builtin_ctzll(m); }

  // Summed in position order, so a child never scores below its parent after rounding.
  double score_of(std::uint64_t mask) const noexcept {
    double s = 0;
    while (mask != 0) {
      s += squares_[static_cast<std::size_t>(lowest_bit(mask))];
      mask &= mask - 1;
    }
    return s;
  }

  bool valid(std::uint64_t mask) const noexcept {
    std::uint64_t used = 0;
    while (mask != 0) {
      const std::uint64_t bit = std::uint64_t{1} << coordinate(lowest_bit(mask));
      if (used & bit) return false;
      used |= bit;
      mask &= mask - 1;
    }
    return true;
  }

  void push(const Set& s) {
    heap_.push_back(s);
    std::push_heap(heap_.begin(), heap_.end(), worse);
  }

  int k_ = 0;
  std::vector<Boundary> order_;
  std::vector<double> squares_;
  std::vector<Set> heap_;
};

/// Calls on_key(key) with the key of table t's home bucket for the f values of one query (k per
/// table), then with the keys of the `num_probes` best perturbed buckets, in score order.
/// `slots` and `below` hold k values of scratch. Returns the number of keys produced.
template <class T, class OnKey>
int for_each_probe_key(const T* f_row, int t, int k, int num_probes,
                       PerturbationGenerator& generator, std::int32_t* slots, T* below,
                       OnKey&& on_key) {
  on_key(table_key(f_row, t, k, slots));
  if (num_probes == 0) return 1;
  const T* f = f_row + static_cast<std::ptrdiff_t>(t) * k;
  for (int i = 0; i < k; ++i) below[i] = f[i] - std::floor(f[i]);
  generator.reset(below, k);
  int produced = 1;
  std::uint64_t mask = 0;
  double score = 0;
  for (int p = 0; p < num_probes && generator.next(mask, score); ++p) {
    generator.apply(mask, slots, +1);
    on_key(slot_key(slots, k));
    generator.apply(mask, slots, -1);
    ++produced;
  }
  return produced;
}

/// Appends to `keys` the probe keys of table t (see for_each_probe_key). Returns how many.
template <class T>
int probe_keys(const T* f_row, int t, int k, int num_probes, PerturbationGenerator& generator,
               std::int32_t* slots, T* below, std::vector<std::uint64_t>& keys) {
  return for_each_probe_key(f_row, t, k, num_probes, generator, slots, below,
                            [&](std::uint64_t key) { keys.push_back(key); });
}

/// Looks up the probe buckets of table t (see for_each_probe_key), calling visit(range) for
/// each. Returns the number of buckets looked up.
template <class T, class Visit>
int probe_table(const T* f_row, int t, int k, int num_probes, const BucketTable& table,
                PerturbationGenerator& generator, std::int32_t* slots, T* below, Visit&& visit) {
  return for_each_probe_key(f_row, t, k, num_probes, generator, slots, below,
                            [&](std::uint64_t key) { visit(table.find(key)); });
}

}  // namespace pstable::detail
