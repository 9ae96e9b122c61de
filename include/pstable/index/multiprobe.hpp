#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "pstable/config.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/hashing.hpp"

namespace pstable::detail {

/// slot + delta modulo 2^32: a slot clamped to the int32 range by to_slot may be perturbed past
/// it (no signed overflow); slot_key hashes slots as uint32, so in-range keys are unchanged.
inline std::int32_t wrapping_add(std::int32_t slot, int delta) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(slot) +
                                   static_cast<std::uint32_t>(delta));
}

/// Query-directed multi-probe (Lv, Josephson, Wang, Charikar, Li, VLDB 2007) for one table.
///
/// For slot values h_i = floor(f_i), x_i(-1) = f_i - h_i and x_i(+1) = 1 - x_i(-1) are the
/// distances (in units of w) to the two neighbouring slots. The 2k values, sorted ascending, are
/// z_1..z_2k; a perturbation set is a set of positions scored by sum z_j^2 and is valid when no
/// coordinate occurs twice. A min-heap seeded with {1} pops the best set, pushes shift(A) (max
/// replaced by max + 1) and expand(A) (max + 1 added), and emits the popped set if valid: every
/// set is generated exactly once, in (score, mask) order, the score summed in position order.
///
/// Invalid sets are never put on the heap. Every descendant of a set keeps all its positions but
/// the highest, so an invalid set whose clash does not involve its highest position has only
/// invalid descendants, and one whose highest position clashes has valid descendants only
/// through repeated shifts. So instead of max + 1, shift and expand take the first position
/// after max whose partner is not in the set: the sets skipped are exactly the invalid ones, the
/// valid ones keep their scores (bit for bit) and order. Each call pops one set and pushes at
/// most two, all valid: work per probe is O(k + log probes), the heap holds at most probes + 1
/// sets (without the skip most popped sets were invalid once probes neared 3^k, and the heap
/// and the time grew far faster than the probes).
class PerturbationGenerator {
 public:
  static constexpr int kMaxCoordinates = 32;  // 2k positions fit a 64-bit mask

  /// Starts a new sequence for slot fractions x_i(-1) = below[i], i < k.
  template <class T>
  void reset(const T* below, int k) {
    PSTABLE_ASSERT(k >= 1 && k <= kMaxCoordinates);
    k_ = k;
    // Each coordinate has a near boundary, z = min(x, 1 - x) <= 1/2, and a far one, z >= 1/2
    // (1/2 is exact and rounding monotone). On x == 1 - x the near one is delta -1, which the
    // order (z, coordinate, delta) puts first. So the near boundaries take positions [0, k) and
    // the far ones [k, 2k), unless some tie at z = 1/2 across the halves (straddle_half).
    double near_max = 0, far_min = 1;
    for (int i = 0; i < k; ++i) {
      const double x = static_cast<double>(below[i]);
      const double y = 1.0 - x;
      const bool down = x <= y;
      near_z_[i] = down ? x : y;
      far_z_[i] = down ? y : x;
      near_down_[i] = down;
      near_max = std::max(near_max, near_z_[i]);
      far_min = std::min(far_min, far_z_[i]);
    }
    if constexpr (std::is_same_v<T, float>) {
      if (k <= 16) {
        rank_near_by_key<16>(below, k);
      } else {
        rank_near_by_key<kMaxCoordinates>(below, k);
      }
    } else {
      rank_by_value(near_z_, k, near_pos_, 0);
    }
    // Far z = 1 - near z rounded (exactly, when near z is 1 - x: Sterbenz), which never rises
    // along the near order: the far order is the reversed near order, except that equal far z
    // go by coordinate.
    int by_rank[kMaxCoordinates];
    for (int i = 0; i < k; ++i) by_rank[near_pos_[i]] = i;
    bool far_ties = false;
    for (int r = 0; r + 1 < k; ++r) far_ties |= far_z_[by_rank[r]] == far_z_[by_rank[r + 1]];
    if (far_ties) {
      rank_by_value(far_z_, k, far_pos_, k);
    } else {
      for (int i = 0; i < k; ++i) far_pos_[i] = 2 * k - 1 - near_pos_[i];
    }
    if (!(near_max < far_min)) straddle_half(k);
    second_ = 0;
    for (int i = 0; i < k; ++i) {
      const int n = near_pos_[i], f = far_pos_[i];
      const int delta = near_down_[i] ? -1 : +1;
      squares_[n] = near_z_[i] * near_z_[i];
      squares_[f] = far_z_[i] * far_z_[i];
      coordinate_[n] = coordinate_[f] = i;
      delta_[n] = delta;
      delta_[f] = -delta;
      // Validity: a set holding both positions of a coordinate is invalid; `second_` marks the
      // later position of each pair, `partner_` names the earlier one.
      const int later = std::max(n, f);
      second_ |= std::uint64_t{1} << later;
      partner_[later] = std::min(n, f);
      other_[n] = f;
      other_[f] = n;
    }
    heap_.clear();
    popped_ = 0;
    heap_.push_back({squares_[0], 0.0, 1});
  }

  /// The next valid perturbation set, as a mask over sorted positions; false when all
  /// 3^k - 1 sets were emitted.
  bool next(std::uint64_t& mask, double& score) {
    const int positions = 2 * k_;
    if (heap_.empty()) return false;
    const Set top = heap_[0];
    const int max = highest_bit(top.mask);
    const std::uint64_t rest = top.mask ^ (std::uint64_t{1} << max);
    // shift(top): max replaced by the first position after it that rest allows; expand(top):
    // the first position after max that top allows added (never before the shift's: top holds
    // rest). Their scores extend the same position-order sums as score_of would compute.
    const int s = first_allowed(rest, max + 1, positions);
    if (s < positions) {
      replace_top({top.prefix + squares_[s], top.prefix, rest | (std::uint64_t{1} << s)});
      const int e = first_allowed(top.mask, s, positions);
      if (e < positions)
        push({top.score + squares_[e], top.score, top.mask | (std::uint64_t{1} << e)});
    } else {
      pop();
    }
    ++popped_;
    PSTABLE_ASSERT(valid(top.mask));
    mask = top.mask;
    score = top.score;
    return true;
  }

  /// Sets popped from the heap since reset (one per call that returned true) and the heap's
  /// current size: the work done, for tests that check it stays linear in the probes.
  std::size_t popped() const noexcept { return popped_; }
  std::size_t heap_size() const noexcept { return heap_.size(); }

  /// Coordinate and direction (-1 or +1) of sorted position j.
  int coordinate(int j) const noexcept { return coordinate_[j]; }
  int delta(int j) const noexcept { return delta_[j]; }

  /// Adds (sign = +1) or undoes (sign = -1) the perturbation `mask` on `slots`.
  void apply(std::uint64_t mask, std::int32_t* slots, int sign) const noexcept {
    while (mask != 0) {
      const int j = lowest_bit(mask);
      mask &= mask - 1;
      slots[coordinate(j)] = wrapping_add(slots[coordinate(j)], sign * delta(j));
    }
  }

 private:
  // A set of positions; `score` sums their squares in position order (so a child never scores
  // below its parent after rounding), `prefix` is that sum without the highest position.
  struct Set {
    double score;
    double prefix;
    std::uint64_t mask;
  };

  // pos[i] = base + #{j < k: (z[j], j) < (z[i], i)}: the rank of i in (z, coordinate) order.
  static void rank_by_value(const double* z, int k, int* pos, int base) noexcept {
    for (int i = 0; i < k; ++i) {
      int rank = 0;
      for (int j = 0; j < k; ++j) rank += (z[j] < z[i]) | ((z[j] == z[i]) & (j < i));
      pos[i] = base + rank;
    }
  }

  // rank_by_value(near_z_, k, near_pos_, 0) for float fractions: near z is then a float (x, or
  // 1 - x exactly by Sterbenz), and for floats >= +0 the bit pattern orders like the value, so
  // (bits << 5 | coordinate) are distinct integer keys in (z, coordinate) order, counted for all
  // coordinates at once in vector lanes (N >= k fixed; lanes k.. are padding).
  template <int N>
  void rank_near_by_key(const float* below, int k) noexcept {
    std::int64_t key[std::size_t{N}], count[std::size_t{N}] = {};
    for (int i = 0; i < N; ++i) {
      std::uint32_t bits = 0;
      if (i < k) {
        const float x = below[i];
        const float z = std::min(x, 1.0f - x) + 0.0f;  // the float near z; -0 -> +0
        std::memcpy(&bits, &z, sizeof bits);
      }
      key[i] = static_cast<std::int64_t>(bits) << 5 | i;
    }
    for (int j = 0; j < k; ++j) {
      const std::int64_t kj = key[j];
      for (int i = 0; i < N; ++i) count[i] += key[i] > kj;
    }
    for (int i = 0; i < k; ++i) near_pos_[i] = static_cast<int>(count[i]);
  }

  // Some near and far boundaries tie at z = 1/2: adds to each position the boundaries of the
  // other half that precede it in (z, coordinate, delta) order.
  void straddle_half(int k) noexcept {
    int near_shift[kMaxCoordinates] = {}, far_shift[kMaxCoordinates] = {};
    for (int i = 0; i < k; ++i) {
      for (int j = 0; j < k; ++j) {
        // near i (delta d_i) against far j (delta -d_j).
        const int di = near_down_[i] ? -1 : +1, dj = near_down_[j] ? +1 : -1;
        const bool far_first =
            far_z_[j] < near_z_[i] || (far_z_[j] == near_z_[i] && (j < i || (j == i && dj < di)));
        near_shift[i] += far_first;
        far_shift[j] += !far_first;
      }
    }
    for (int i = 0; i < k; ++i) {
      near_pos_[i] += near_shift[i];
      far_pos_[i] += far_shift[i] - k;
    }
  }

  // Heap order: the root is the smallest score (ties: smaller mask), so the generation order is
  // fully determined. Bitwise, not short-circuit, operators: no branch (it is unpredictable).
  static bool worse(const Set& a, const Set& b) noexcept {
    return (a.score > b.score) | ((a.score == b.score) & (a.mask > b.mask));
  }

  static int lowest_bit(std::uint64_t m) noexcept { return __builtin_ctzll(m); }
  static int highest_bit(std::uint64_t m) noexcept { return 63 - __builtin_clzll(m); }

  // The first position p in [from, positions) whose partner (the other boundary of its
  // coordinate) is not in `mask`; positions if none.
  int first_allowed(std::uint64_t mask, int from, int positions) const noexcept {
    int p = from;
    while (p < positions && ((mask >> other_[p]) & 1)) ++p;
    return p;
  }

  bool valid(std::uint64_t mask) const noexcept {
    for (std::uint64_t later = mask & second_; later != 0; later &= later - 1) {
      if ((mask >> partner_[lowest_bit(later)]) & 1) return false;
    }
    return true;
  }

  // Binary min-heap (by `worse`) in heap_, with hole-moving sifts.
  void sift_down(std::size_t hole, const Set s) noexcept {
    Set* h = heap_.data();
    const std::size_t n = heap_.size();
    std::size_t child = 2 * hole + 1;
    for (; child + 1 < n; child = 2 * hole + 1) {
      child += static_cast<std::size_t>(worse(h[child], h[child + 1]));
      if (!worse(s, h[child])) break;
      h[hole] = h[child];
      hole = child;
    }
    if (child + 1 == n && worse(s, h[child])) {
      h[hole] = h[child];
      hole = child;
    }
    h[hole] = s;
  }

  void replace_top(const Set& s) noexcept { sift_down(0, s); }

  void pop() noexcept {
    const Set last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0, last);
  }

  void push(const Set& s) {
    heap_.push_back(s);
    Set* h = heap_.data();
    std::size_t hole = heap_.size() - 1;
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / 2;
      if (!worse(h[parent], s)) break;
      h[hole] = h[parent];
      hole = parent;
    }
    h[hole] = s;
  }

  int k_ = 0;
  // Per coordinate: near and far z, whether the near one is delta -1, sorted positions.
  double near_z_[kMaxCoordinates] = {}, far_z_[kMaxCoordinates] = {};
  bool near_down_[kMaxCoordinates] = {};
  int near_pos_[kMaxCoordinates] = {}, far_pos_[kMaxCoordinates] = {};
  // Per sorted position.
  double squares_[2 * kMaxCoordinates] = {};
  int coordinate_[2 * kMaxCoordinates] = {};
  int delta_[2 * kMaxCoordinates] = {};
  int partner_[2 * kMaxCoordinates] = {};
  int other_[2 * kMaxCoordinates] = {};  // the partner of every position
  std::size_t popped_ = 0;
  std::uint64_t second_ = 0;
  std::vector<Set> heap_;
};

/// Calls on_key(key) with the key of table t's home bucket for the f values of one query (k per
/// table), then with the keys of the `num_probes` best perturbed buckets, in score order. Keeps
/// slot_key's state after each slot of the home bucket (slot_key_round, hashing.hpp) and
/// re-hashes a perturbed bucket from its first changed slot on: the same keys as slot_key
/// (tests/test_multiprobe.cpp checks).
/// `slots` and `below` hold k values of scratch. Returns the number of keys produced.
template <class T, class OnKey>
int for_each_probe_key(const T* f_row, int t, int k, int num_probes,
                       PerturbationGenerator& generator, std::int32_t* slots, T* below,
                       OnKey&& on_key) {
  PSTABLE_ASSERT(k >= 1 && k <= PerturbationGenerator::kMaxCoordinates);
  const T* f = f_row + static_cast<std::ptrdiff_t>(t) * k;
  // state[i]: slot_key's state after slots [0, i) of the home bucket.
  std::uint64_t state[PerturbationGenerator::kMaxCoordinates + 1];
  state[0] = kSlotKeySeed;
  for (int i = 0; i < k; ++i) {
    slots[i] = to_slot(f[i]);
    state[i + 1] = slot_key_round(state[i], slots[i]);
  }
  on_key(mix64(state[k]));  // = table_key(f_row, t, k, slots)
  if (num_probes == 0) return 1;
  for (int i = 0; i < k; ++i) {
    // A projection that overflowed to +-inf or NaN (a crafted index file, an extreme query) has
    // no fraction; 0 keeps the probe order a permutation instead of ranking NaNs.
    const T x = f[i] - std::floor(f[i]);
    below[i] = std::isfinite(x) ? x : T(0);
  }
  generator.reset(below, k);
  int produced = 1;
  std::uint64_t mask = 0;
  double score = 0;
  for (int p = 0; p < num_probes && generator.next(mask, score); ++p) {
    int from = k;
    for (std::uint64_t m = mask; m != 0; m &= m - 1) {
      const int j = __builtin_ctzll(m);
      const int c = generator.coordinate(j);
      slots[c] = wrapping_add(slots[c], generator.delta(j));
      from = std::min(from, c);
    }
    std::uint64_t h = state[from];
    for (int i = from; i < k; ++i) h = slot_key_round(h, slots[i]);
    on_key(mix64(h));  // = slot_key(slots, k)
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
