#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pstable/detail/collision_counts.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/multiprobe.hpp"

namespace pstable::detail {

/// One query's walk through E2LSH tables, the single implementation that both E2LSHIndex's search
/// and tune_e2lsh run (so the tuner measures exactly what search does). Its steps:
/// 1. `probe`: the bucket keys of tables [first, last): each table's home bucket and its
///    `num_probes` best perturbed buckets in multi-probe order;
/// 2. `gather`: looks the buckets up in stages, each prefetching what the next reads (directory
///    slots, bucket keys, the buckets' row lists), so that the cache misses of different buckets
///    overlap, then counts each row's collisions with the query; a row is
///    `fresh` once its count reaches the threshold m, `touched` once it is seen at all;
/// 3. `select_candidates`: the fresh rows, topped up from lower counts (m - 1, m - 2, ...) when
///    fewer than k of them are accepted.
/// Scratch only grows, so a walk reused across queries and calls allocates nothing once warm.
class CandidateWalk {
 public:
  /// Makes room for indexes of `rows` rows (counts of new rows read 0).
  void reserve_rows(std::size_t rows) {
    counts_.ensure(rows);
    if (fresh_.size() < rows + 1) fresh_.resize(rows + 1);
  }

  /// Starts a query: every count reads 0 and no bucket is probed.
  void begin_query() {
    counts_.next_query();
    keys_.clear();
    tables_.clear();
    gathered_ = 0;
    nf_ = 0;
  }

  /// Step 1 for tables [first, last) of a query whose hash values (k per table) are `f_row`.
  template <class T>
  void probe(const T* f_row, int first, int last, int k, int num_probes) {
    if (slots_.size() < static_cast<std::size_t>(k)) slots_.resize(static_cast<std::size_t>(k));
    auto& below_values = below<T>();
    if (below_values.size() < static_cast<std::size_t>(k))
      below_values.resize(static_cast<std::size_t>(k));
    T* below = below_values.data();
    for (int t = first; t < last; ++t) {
      const int added =
          probe_keys(f_row, t, k, num_probes, generator_, slots_.data(), below, keys_);
      tables_.insert(tables_.end(), static_cast<std::size_t>(added), static_cast<std::uint32_t>(t));
    }
  }

  /// Step 2: looks up every probed bucket not yet gathered and counts its rows; on_hit(row, count)
  /// sees every count (the tuner records with it; search passes a no-op).
  template <class OnHit>
  void gather(const std::vector<BucketTable>& tables, std::uint32_t min_hits, OnHit&& on_hit) {
    const std::size_t np = keys_.size();
    starts_.resize(np);
    buckets_.resize(np);
    for (std::size_t j = gathered_; j < np; ++j) tables[tables_[j]].prefetch_directory(keys_[j]);
    for (std::size_t j = gathered_; j < np; ++j) {
      const auto& table = tables[tables_[j]];
      starts_[j] = table.locate(keys_[j]);
      table.prefetch_bucket(starts_[j]);
    }
    for (std::size_t j = gathered_; j < np; ++j) {
      buckets_[j] = tables[tables_[j]].find_from(starts_[j], keys_[j]);
      prefetch_rows(buckets_[j]);
    }
    // A row reaches min_hits once (it lies in one bucket per table). Branch-free: the outcome
    // is unpredictable. (The counts keep the touched rows.)
    std::size_t nf = nf_;
    for (std::size_t j = gathered_; j < np; ++j) {
      const auto bucket = buckets_[j];
      for (const std::uint32_t* r = bucket.begin; r != bucket.end; ++r) {
        const std::uint32_t row = *r;
        const std::uint32_t c = counts_.hit(row);
        on_hit(row, c);
        fresh_[nf] = row;
        nf += c == min_hits;
      }
    }
    nf_ = nf;
    gathered_ = np;
  }

  /// Step 3: offers accept(row) the fresh rows, then, while fewer than k were accepted, the rows
  /// with the most collisions below min_hits, one count at a time (so a query gets k results
  /// whenever its buckets hold k acceptable rows). Each row is offered once. accept returns
  /// whether it took the row. Returns the number accepted.
  template <class Accept>
  std::size_t select_candidates(std::uint32_t min_hits, std::size_t k, Accept&& accept) const {
    std::size_t taken = 0;
    for (std::size_t e = 0; e < nf_; ++e) taken += accept(fresh_[e]) ? 1U : 0U;
    const std::uint32_t* touched = counts_.touched();
    for (std::uint32_t level = min_hits - 1; level >= 1 && taken < k; --level) {
      for (std::size_t e = 0; e < counts_.num_touched(); ++e) {
        if (counts_.count(touched[e]) == level) taken += accept(touched[e]) ? 1U : 0U;
      }
    }
    return taken;
  }

  /// Buckets probed since begin_query.
  std::size_t probed() const noexcept { return keys_.size(); }

 private:
  template <class T>
  std::vector<T>& below() noexcept {
    if constexpr (std::is_same_v<T, float>) {
      return below_float_;
    } else {
      return below_double_;
    }
  }

  // The first lines of a bucket's row list (the hardware prefetcher follows longer ones).
  static void prefetch_rows(const BucketTable::Range& bucket) noexcept {
    constexpr std::ptrdiff_t kRowsPerLine = 64 / sizeof(std::uint32_t);
    if (bucket.begin == bucket.end) return;
    __builtin_prefetch(bucket.begin);
    if (bucket.end - bucket.begin > kRowsPerLine) __builtin_prefetch(bucket.begin + kRowsPerLine);
  }

  CollisionCounts counts_{0};
  std::vector<std::uint32_t> fresh_;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> tables_, starts_;
  std::vector<BucketTable::Range> buckets_;
  std::vector<std::int32_t> slots_;
  std::vector<float> below_float_;
  std::vector<double> below_double_;
  PerturbationGenerator generator_;
  std::size_t gathered_ = 0, nf_ = 0;
};

}  // namespace pstable::detail
