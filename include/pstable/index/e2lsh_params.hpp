#pragma once

#include <cmath>
#include <cstdint>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable {

/// Parameters of an E2LSH index (FALCONN-style aggregate with defaults).
///
/// L tables, each keyed by k concatenated p-stable hashes h(p) = floor((a.p + b) / w). A larger
/// k makes buckets smaller (fewer candidates, lower recall per table), a larger L raises recall
/// and cost, a larger w makes buckets coarser, and multi-probe looks up `num_probes` more
/// buckets per table next to the query's own. With `min_collisions` m > 1 a point becomes a
/// candidate only once it turned up in m of the query's probed buckets (collision counting, as in
/// C2LSH: Gan, Feng, Fang, Ng, SIGMOD 2012): near points collide in many tables, far ones in one,
/// so fewer distances are computed for the same recall. See docs/e2lsh.md, or `tune_e2lsh` to
/// choose them.
struct E2LSHParams {
  /// Largest accepted k: a table's perturbation sets are 64-bit masks over its 2k boundaries.
  static constexpr int kMaxHashes = 32;
  /// Largest accepted L (collision counts have 16 bits).
  static constexpr int kMaxTables = 4096;
  static_assert(kMaxTables < 0xFFFF, "detail::CollisionCounts counts up to 65535 collisions");
  /// Largest accepted number of extra probes per table.
  static constexpr int kMaxProbes = 1 << 20;

  int num_tables = 10;        ///< L: independent hash tables
  int num_hashes = 8;         ///< k: hash functions concatenated into one table key
  double bucket_width = 4.0;  ///< w: width of one hash slot, in units of the data
  int num_probes = 0;         ///< extra buckets per table by multi-probe (0 = plain E2LSH)
  std::uint64_t seed = 1;     ///< seed of the projections; equal seeds give equal indexes
  /// m: how many of the query's probed buckets a point must share to become a candidate
  /// (1 = plain E2LSH: any). Last, so that {L, k, w, probes, seed} initialisers keep meaning.
  int min_collisions = 1;

  /// Calls visit(name, member pointer, doc) for every field, in declaration order: the one list
  /// of the parameters, which the Python binding (keywords, dict), repr and the docs check follow.
  template <class Visit>
  static void for_each_field(Visit&& visit) {
    visit("num_tables", &E2LSHParams::num_tables, "L: independent hash tables");
    visit("num_hashes", &E2LSHParams::num_hashes,
          "k: hash functions concatenated into one table key");
    visit("bucket_width", &E2LSHParams::bucket_width,
          "w: width of one hash slot, in units of the data");
    visit("num_probes", &E2LSHParams::num_probes,
          "extra buckets per table by multi-probe (0 = plain E2LSH)");
    visit("seed", &E2LSHParams::seed, "seed of the projections; equal seeds give equal indexes");
    visit("min_collisions", &E2LSHParams::min_collisions,
          "m: probed buckets a point must share with the query to become a candidate (1 = any)");
  }

  /// Throws InvalidArgument naming the first bad field and the accepted range.
  void validate() const {
    using detail::concat;
    if (num_tables < 1 || num_tables > kMaxTables) {
      throw InvalidArgument(
          concat("num_tables (L) must be in [1, ", kMaxTables, "], got ", num_tables));
    }
    if (num_hashes < 1 || num_hashes > kMaxHashes) {
      throw InvalidArgument(concat("num_hashes (k) must be in [1, ", kMaxHashes, "], got ",
                                   num_hashes,
                                   "; use a larger bucket_width instead of more hashes"));
    }
    if (!std::isfinite(bucket_width) || !(bucket_width > 0)) {
      throw InvalidArgument(
          concat("bucket_width (w) must be a finite positive number, got ", bucket_width));
    }
    check_probes(num_probes, num_hashes);
    detail::check_probe_budget(num_tables, num_probes);
    check_collisions(min_collisions, num_tables);
  }

  /// Throws unless `m` is in [1, tables]: a point lies in one bucket per table, so it can
  /// collide with a query at most L times.
  static void check_collisions(int m, int tables) {
    if (m < 1 || m > tables) {
      throw InvalidArgument(detail::concat("min_collisions must be in [1, num_tables = ", tables,
                                           "], got ", m, " (1 = every point in a probed bucket)"));
    }
  }

  /// Throws unless `probes` extra buckets exist next to the home bucket of a k-hash table.
  static void check_probes(int probes, int hashes) {
    using detail::concat;
    if (probes < 0 || probes > kMaxProbes) {
      throw InvalidArgument(concat("num_probes must be in [0, ", kMaxProbes, "], got ", probes,
                                   " (0 = plain E2LSH)"));
    }
    // A table with k hashes has 3^k - 1 neighbouring buckets (each slot -1, 0 or +1).
    const double neighbours = std::pow(3.0, hashes) - 1;
    if (static_cast<double>(probes) > neighbours) {
      throw InvalidArgument(concat("num_probes = ", probes, " exceeds the ", neighbours,
                                   " buckets next to a table's home bucket with num_hashes = ",
                                   hashes, "; pass num_probes <= 3^k - 1"));
    }
  }
};

}  // namespace pstable
