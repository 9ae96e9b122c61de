#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/core/topk.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/huge_page_allocator.hpp"
#include "pstable/detail/collision_counts.hpp"
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/point_set.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/e2lsh_params.hpp"
#include "pstable/index/hashing.hpp"
#include "pstable/index/multiprobe.hpp"
#include "pstable/io/e2lsh_file.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Approximate k-nearest-neighbour search with p-stable LSH (E2LSH: Datar et al. 2004, Andoni)
/// and optional query-directed multi-probe (Lv et al. 2007).
///
/// L tables; table t keys a point by its k slots h_i(p) = floor((a_i . p + b_i) / w) (see
/// detail::HashFamily for the portable random draws). A query looks up its own bucket in every
/// table plus `num_probes` neighbouring buckets per table in multi-probe order, computes the
/// exact distance to each distinct candidate once (SIMD kernels) and keeps the best k. A point is
/// a candidate when it lies in at least `min_collisions` of the probed buckets (1 = in any;
/// collision counting with a per-thread counter array, see E2LSHParams). Cosine
/// hashes and ranks unit-normalised vectors (the stored rows are kept as given, with their
/// inverse norms) and reports similarities.
///
/// Data: `add` copies the rows; ids are assigned in insertion order, continuing across `add`
/// calls, and are STABLE: `remove(id)` hides a point at once (it is never returned again and
/// costs no distance computation), `compact()` later drops the removed rows from memory and the
/// tables without changing any other point's id (like hnswlib's labels or FAISS IVF ids, not
/// like IndexFlat::remove_ids). An id is never reused.
///
/// `add` after the first rebuilds every table by merging the new (key, row) pairs into the
/// existing sorted arrays: O(size() * L) per call, so add in batches rather than row by row.
///
/// Files: `save(path)` writes the whole state (rows, tombstones, id map, hash functions, tables)
/// to a versioned, checksummed index file (docs/file-format.md) through a temporary renamed over
/// `path`; `E2LSHIndex::load(path)` reads it back without rehashing, and the loaded index returns
/// the same results, visited and probed counts bit for bit, keeps the removed points removed and
/// hands out the same next ids.
///
/// Thread safety: `add`, `remove`, `compact`, `set_num_probes` and `set_min_collisions` need
/// exclusive access. `search`,
/// `search_filtered` and `save` are const and may run from many threads at once; each search call
/// itself splits its queries over `num_threads` workers (0 = one per hardware thread).
template <class T, class Metric>
class E2LSHIndex {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "E2LSHIndex supports float and double");
  static_assert(std::is_same_v<Metric, Euclidean> || std::is_same_v<Metric, Cosine>,
                "E2LSHIndex supports the Euclidean and Cosine metrics");

 public:
  using Scalar = T;
  using MetricType = Metric;
  /// Rows are uint32 inside the tables.
  static constexpr Eigen::Index kMaxRows = std::numeric_limits<std::uint32_t>::max() - 1;

  /// An empty index for points with `dim` coordinates. Throws InvalidArgument for dim < 1 or
  /// bad parameters (E2LSHParams::validate).
  explicit E2LSHIndex(Eigen::Index dim, const E2LSHParams& params = {})
      : params_(checked(params)),
        points_(dim),
        hashes_(dim, params.num_tables * params.num_hashes, params.bucket_width, params.seed),
        tables_(static_cast<std::size_t>(params.num_tables)) {}

  const E2LSHParams& params() const noexcept { return params_; }
  Eigen::Index dim() const noexcept { return points_.dim(); }
  /// Points that searches can return (added minus removed).
  Eigen::Index size() const noexcept { return points_.size() - num_removed_; }
  /// Removed points still held until `compact()`.
  Eigen::Index num_removed() const noexcept { return num_removed_; }
  /// The id the next added row receives.
  Id next_id() const noexcept { return next_id_; }

  /// True when `id` was added and not removed.
  bool contains(Id id) const noexcept {
    const Eigen::Index row = row_of(id);
    return row >= 0 && !removed_[static_cast<std::size_t>(row)];
  }

  /// Bytes held: rows and norms, projections, tables (4 bytes per row per table plus about 14
  /// per bucket), tombstones and the id map.
  std::size_t memory_bytes() const noexcept {
    std::size_t bytes = points_.memory_bytes() + hashes_.memory_bytes() +
                        removed_.capacity() + ids_.capacity() * sizeof(Id);
    for (const auto& t : tables_) bytes += t.memory_bytes();
    return bytes;
  }

  /// Multi-probe depth used by later searches (0 = plain E2LSH). Tables are not rebuilt.
  void set_num_probes(int probes) {
    E2LSHParams::check_probes(probes, params_.num_hashes);
    detail::check_probe_budget(params_.num_tables, probes);
    params_.num_probes = probes;
  }

  /// Collision threshold used by later searches (1 = plain E2LSH: every point in a probed
  /// bucket is a candidate). Throws InvalidArgument outside [1, num_tables].
  void set_min_collisions(int m) {
    E2LSHParams::check_collisions(m, params_.num_tables);
    params_.min_collisions = m;
  }

  /// Writes the index to `path` atomically (a failed save leaves any previous file intact).
  /// Throws IoError if the file cannot be written.
  void save(const std::string& path) const { save_index(*this, path); }

  /// Reads an index written by `save`. Throws IoError if the file cannot be read, FormatError if
  /// it is not a valid pstable index file (truncated, corrupted, inconsistent) or holds another
  /// scalar type, metric or index kind (the message names the type to load it as).
  static E2LSHIndex load(const std::string& path) { return load_index<E2LSHIndex>(path); }

  /// Appends rows with ids next_id(), next_id() + 1, ... Validates everything first: on an
  /// exception the index is as it was.
  void add(const MatrixRef<T>& rows) {
    points_.validate_rows(rows, "data");
    if (rows.rows() > kMaxRows - points_.size()) {
      throw InvalidArgument(detail::concat("adding ", rows.rows(), " rows to ", points_.size(),
                                           " exceeds the ", kMaxRows,
                                           " rows an E2LSH index holds; split the data"));
    }
    const Eigen::Index m = rows.rows();
    if (m == 0) return;
    const auto first = static_cast<std::uint32_t>(points_.size());
    const int L = params_.num_tables;
    const int k = params_.num_hashes;

    // Every new row's key in every table (table t's at keys[t * m + i]), from one product per
    // block of rows; then each table is sorted by key and built, or merged into the old one.
    const auto count = static_cast<std::size_t>(m);
    std::vector<std::uint64_t, detail::HugePageAllocator<std::uint64_t>> keys(
        count * static_cast<std::size_t>(L));
    RowMatrix<T> block, f;
    std::vector<std::int32_t> slots(static_cast<std::size_t>(k));
    for (Eigen::Index r0 = 0; r0 < m; r0 += kHashBlock) {
      const Eigen::Index nb = std::min(kHashBlock, m - r0);
      if constexpr (std::is_same_v<Metric, Cosine>) {
        block = rows.middleRows(r0, nb);
        block.rowwise().normalize();
        hashes_.project(block, f);
      } else {
        hashes_.project(rows.middleRows(r0, nb), f);  // the same product, without a copy
      }
      for (Eigen::Index i = 0; i < nb; ++i) {
        std::uint64_t* key = keys.data() + r0 + i;
        for (int t = 0; t < L; ++t, key += count) {
          *key = detail::table_key(f.row(i).data(), t, k, slots.data());
        }
      }
    }
    detail::TableBuilder builder;
    std::vector<detail::BucketTable> tables(static_cast<std::size_t>(L));
    for (std::size_t t = 0; t < tables.size(); ++t) {
      std::uint64_t* table_keys = keys.data() + t * count;  // sorted in place by build
      if (tables_[t].num_rows() == 0) {
        builder.build(table_keys, count, first, tables[t]);
      } else {
        detail::BucketTable added;
        builder.build(table_keys, count, first, added);
        tables[t] = detail::merge_tables(tables_[t], added);
      }
    }
    removed_.reserve(removed_.size() + static_cast<std::size_t>(m));
    if (mapped_) ids_.reserve(ids_.size() + static_cast<std::size_t>(m));
    points_.append(rows);  // strong guarantee; nothing below throws
    tables_.swap(tables);
    removed_.resize(removed_.size() + static_cast<std::size_t>(m), 0);
    if (mapped_) {
      for (Eigen::Index i = 0; i < m; ++i) ids_.push_back(next_id_ + i);
    }
    next_id_ += m;
  }

  /// Hides point `id` from every later search. Throws InvalidArgument when `id` was never added
  /// or is already removed.
  void remove(Id id) {
    const Eigen::Index row = row_of(id);
    if (row < 0) {
      throw InvalidArgument(detail::concat("id ", id, " is not in the index (ids run from 0 to ",
                                           next_id_ - 1, ", removed ids are gone after compact)"));
    }
    if (removed_[static_cast<std::size_t>(row)]) {
      throw InvalidArgument(detail::concat("id ", id, " was already removed"));
    }
    removed_[static_cast<std::size_t>(row)] = 1;
    ++num_removed_;
  }

  /// Drops the removed points' rows and table entries, reclaiming their memory. Ids of the
  /// remaining points do not change. O(size() * (dim + L)).
  void compact() {
    if (num_removed_ == 0) return;
    const auto rows = static_cast<std::size_t>(points_.size());
    std::vector<std::uint32_t> remap(rows, kGone);
    std::vector<Id> ids;
    ids.reserve(rows - static_cast<std::size_t>(num_removed_));
    RowMatrix<T> kept(static_cast<Eigen::Index>(rows) - num_removed_, dim());
    for (std::size_t r = 0; r < rows; ++r) {
      if (removed_[r]) continue;
      remap[r] = static_cast<std::uint32_t>(ids.size());
      kept.row(static_cast<Eigen::Index>(ids.size())) =
          Eigen::Map<const RowVector<T>>(points_.row(static_cast<Id>(r)), dim());
      ids.push_back(id_of(static_cast<std::uint32_t>(r)));
    }
    detail::PointSet<T, Metric> points(dim());
    points.append(kept);
    std::vector<detail::BucketTable> tables(tables_.size());
    for (std::size_t t = 0; t < tables.size(); ++t) {
      auto pairs = tables_[t].pairs();
      std::size_t out = 0;
      for (const auto& p : pairs) {
        if (remap[p.row] != kGone) pairs[out++] = {p.key, remap[p.row]};
      }
      pairs.resize(out);
      tables[t].assign_sorted(pairs);  // the remap is monotone: still sorted
    }
    points_ = std::move(points);
    tables_.swap(tables);
    ids_.swap(ids);
    mapped_ = true;
    removed_.assign(ids_.size(), 0);
    num_removed_ = 0;
  }

  /// The k best points for each query row (see Neighbors; padded with id -1 when the probed
  /// buckets held fewer than k live points). Throws if k < 1, k > size(), the index is empty,
  /// queries have the wrong width or hold NaN/inf (or zero rows under cosine).
  Neighbors<T> search(const MatrixRef<T>& queries, Eigen::Index k, int num_threads = 1) const {
    return search_impl(queries, k, [](Id) { return true; }, num_threads);
  }

  /// As search, returning only ids with keep(id) true. keep is called at most once per distinct
  /// candidate per query, before its distance is computed, from the worker threads (so it must be
  /// safe to call concurrently when num_threads != 1). Rejected points count in neither
  /// visited() nor the results.
  template <class Keep>
  Neighbors<T> search_filtered(const MatrixRef<T>& queries, Eigen::Index k, Keep&& keep,
                               int num_threads = 1) const {
    return search_impl(queries, k, keep, num_threads);
  }

  /// The hash functions (for tests and serializers).
  const detail::HashFamily<T>& hash_family() const noexcept { return hashes_; }
  /// The tables; rows in them are internal row numbers (see id_of).
  const std::vector<detail::BucketTable>& tables() const noexcept { return tables_; }
  /// The id of internal row `row`.
  Id id_of(std::uint32_t row) const noexcept {
    return mapped_ ? ids_[row] : static_cast<Id>(row);
  }

 private:
  template <class, class>
  friend struct detail::IndexSerializer;

  static constexpr Eigen::Index kHashBlock = 4096;
  static constexpr Eigen::Index kQueryBlock = 128;  // queries hashed and grouped together
  static constexpr std::size_t kPrefetchAhead = 2;  // candidates whose rows load ahead
  static constexpr std::uint32_t kGone = std::numeric_limits<std::uint32_t>::max();

  static const E2LSHParams& checked(const E2LSHParams& params) {
    params.validate();
    return params;
  }

  // Internal row of `id`, or -1. Rows are in increasing id order, so the map is searched.
  Eigen::Index row_of(Id id) const noexcept {
    if (!mapped_) return (id >= 0 && id < points_.size()) ? static_cast<Eigen::Index>(id) : -1;
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    return (it != ids_.end() && *it == id) ? static_cast<Eigen::Index>(it - ids_.begin()) : -1;
  }

  template <class Keep>
  Neighbors<T> search_impl(const MatrixRef<T>& queries, Eigen::Index k, Keep&& keep,
                           int num_threads) const {
    points_.validate_rows(queries, "queries");
    detail::check_k(k, size());
    detail::check_threads(num_threads);
    Neighbors<T> result(queries.rows(), k);
    detail::parallel_for(queries.rows(), num_threads, kQueryBlock, [&](auto begin, auto end, int) {
      search_range(queries, begin, end, keep, result);
    });
    return result;
  }

  // Queries [begin, end) in blocks: one product hashes a block; each query gathers its distinct
  // live candidates (detail::CollisionCounts); then the block's (row, query) pairs are grouped by row
  // (counting sort over the rows touched), so a candidate row shared by several queries of the
  // block is loaded from memory once and compared with all of them while in cache.
  template <class Keep>
  void search_range(const MatrixRef<T>& queries, Eigen::Index begin, Eigen::Index end,
                    Keep& keep, Neighbors<T>& out) const {
    const auto& kernels = simd::kernels<T>();
    const int L = params_.num_tables;
    const int kh = params_.num_hashes;
    const int probes = params_.num_probes;
    const auto k = static_cast<std::size_t>(out.k());
    const auto n = static_cast<std::size_t>(points_.size());
    const auto d = static_cast<std::size_t>(dim());
    const auto min_hits = static_cast<std::uint32_t>(params_.min_collisions);
    // fresh (rows reaching min_hits) and touched (rows seen at all): one spare slot each for the
    // branch-free write.
    std::vector<std::uint32_t> fresh(n + 1), touched(n + 1), count(n, 0), head(n);
    detail::CollisionCounts collisions(n);
    std::vector<std::uint64_t> row_bits((n + 63) / 64, 0);
    std::vector<std::int32_t> slots(static_cast<std::size_t>(kh));
    std::vector<T> below(static_cast<std::size_t>(kh));
    std::vector<T> buffer;
    detail::PerturbationGenerator generator;
    std::vector<detail::TopK<T>> tops(static_cast<std::size_t>(kQueryBlock), detail::TopK<T>(k));
    std::vector<std::uint32_t> gathered, used, by_row, probe_tables, probe_starts;
    std::vector<std::uint64_t> probe_keys;
    std::vector<std::size_t> first(static_cast<std::size_t>(kQueryBlock) + 1);
    std::vector<const T*> prepared(static_cast<std::size_t>(kQueryBlock));
    RowMatrix<T> block, f, prepared_rows(kQueryBlock, dim());
    for (Eigen::Index q0 = begin; q0 < end; q0 += kQueryBlock) {
      const Eigen::Index nb = std::min(kQueryBlock, end - q0);
      block = queries.middleRows(q0, nb);
      if constexpr (std::is_same_v<Metric, Cosine>) block.rowwise().normalize();
      hashes_.project(block, f);  // one product for the block
      gathered.clear();
      for (Eigen::Index i = 0; i < nb; ++i) {
        const auto qi = static_cast<std::size_t>(i);
        const T* query = queries.row(q0 + i).data();
        const T* p = points_.prepare_query(query, buffer);
        if (p != query) {
          std::copy(p, p + d, prepared_rows.row(i).data());
          p = prepared_rows.row(i).data();
        }
        prepared[qi] = p;
        first[qi] = gathered.size();
        // All the query's bucket keys first, then the lookups in stages with prefetches, so
        // that the cache misses of different tables overlap.
        probe_keys.clear();
        probe_tables.clear();
        for (int t = 0; t < L; ++t) {
          const int added = detail::probe_keys(f.row(i).data(), t, kh, probes, generator,
                                               slots.data(), below.data(), probe_keys);
          probe_tables.insert(probe_tables.end(), static_cast<std::size_t>(added),
                              static_cast<std::uint32_t>(t));
        }
        const std::size_t np = probe_keys.size();
        probe_starts.resize(np);
        for (std::size_t j = 0; j < np; ++j) tables_[probe_tables[j]].prefetch_directory(probe_keys[j]);
        for (std::size_t j = 0; j < np; ++j) {
          const auto& table = tables_[probe_tables[j]];
          probe_starts[j] = table.locate(probe_keys[j]);
          table.prefetch_bucket(probe_starts[j]);
        }
        // A row becomes a candidate when its count reaches min_hits, which happens once (a row
        // lies in one bucket per table). Branch-free: the outcome is unpredictable.
        collisions.next_query();
        std::size_t nf = 0, nt = 0;
        for (std::size_t j = 0; j < np; ++j) {
          const auto bucket = tables_[probe_tables[j]].find_from(probe_starts[j], probe_keys[j]);
          for (const std::uint32_t* r = bucket.begin; r != bucket.end; ++r) {
            const std::uint32_t row = *r;
            const std::uint32_t c = collisions.hit(row);
            fresh[nf] = row;
            nf += c == min_hits;
            touched[nt] = row;
            nt += c == 1;
          }
        }
        const auto accept = [&](std::uint32_t row) {
          if (!removed_[row] && keep(id_of(row))) gathered.push_back(row);
        };
        for (std::size_t e = 0; e < nf; ++e) accept(fresh[e]);
        // Fewer than k live candidates reached min_hits: the rows with the most collisions below
        // it fill in, one count at a time, so a query gets k results whenever its buckets hold
        // k live rows (as with min_collisions = 1). Each row is offered to keep() once.
        for (std::uint32_t level = min_hits - 1; level >= 1 && gathered.size() - first[qi] < k; --level) {
          for (std::size_t e = 0; e < nt; ++e) {
            if (collisions.count(touched[e]) == level) accept(touched[e]);
          }
        }
        const auto probed = static_cast<std::int64_t>(np);
        out.probed()(q0 + i) = probed;
        out.visited()(q0 + i) = static_cast<std::int64_t>(gathered.size() - first[qi]);
      }
      first[static_cast<std::size_t>(nb)] = gathered.size();

      // Group the (row, query) pairs by row.
      // The rows come out in ascending order (a bitmap scan), so the distance pass below walks
      // memory forwards.
      for (const std::uint32_t row : gathered) {
        if (count[row]++ == 0) row_bits[row >> 6] |= std::uint64_t{1} << (row & 63);
      }
      used.clear();
      for (std::size_t w = 0; w < row_bits.size(); ++w) {
        for (std::uint64_t bits = row_bits[w]; bits != 0; bits &= bits - 1) {
          used.push_back(static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))));
        }
        row_bits[w] = 0;
      }
      std::uint32_t running = 0;
      for (const std::uint32_t row : used) {
        head[row] = running;
        running += count[row];
        count[row] = head[row];  // now the fill cursor
      }
      by_row.resize(gathered.size());
      for (Eigen::Index i = 0; i < nb; ++i) {
        const auto qi = static_cast<std::size_t>(i);
        for (std::size_t e = first[qi]; e < first[qi + 1]; ++e) {
          by_row[count[gathered[e]]++] = static_cast<std::uint32_t>(i);
        }
      }
      for (Eigen::Index i = 0; i < nb; ++i) tops[static_cast<std::size_t>(i)].reset(k);
      const std::size_t nu = used.size();
      for (std::size_t c = 0; c < std::min(nu, kPrefetchAhead); ++c) prefetch_row(used[c]);
      for (std::size_t c = 0; c < nu; ++c) {
        if (c + kPrefetchAhead < nu) prefetch_row(used[c + kPrefetchAhead]);
        const std::uint32_t row = used[c];
        const Id id = id_of(row);
        for (std::uint32_t e = head[row]; e < count[row]; ++e) {
          auto& top = tops[by_row[e]];
          const T key = points_.key(kernels, prepared[by_row[e]], static_cast<Id>(row));
          if (key <= top.threshold()) top.push(key, id);
        }
        count[row] = 0;
      }
      for (Eigen::Index i = 0; i < nb; ++i) write_row(tops[static_cast<std::size_t>(i)], out, q0 + i);
    }
  }

  void prefetch_row(std::uint32_t row) const noexcept {
    const char* p = reinterpret_cast<const char*>(points_.row(static_cast<Id>(row)));
    const std::size_t bytes = static_cast<std::size_t>(dim()) * sizeof(T);
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
  }

  static void write_row(detail::TopK<T>& top, Neighbors<T>& out, Eigen::Index q) {
    const auto best = top.take_sorted();
    const T pad = Metric::is_similarity ? -std::numeric_limits<T>::infinity()
                                        : std::numeric_limits<T>::infinity();
    for (Eigen::Index j = 0; j < out.k(); ++j) {
      const auto s = static_cast<std::size_t>(j);
      out.ids()(q, j) = s < best.size() ? best[s].id : Id{-1};
      out.distances()(q, j) = s < best.size() ? Metric::key_to_value(best[s].key) : pad;
    }
  }

  E2LSHParams params_;
  detail::PointSet<T, Metric> points_;
  detail::HashFamily<T> hashes_;
  std::vector<detail::BucketTable> tables_;
  std::vector<std::uint8_t> removed_;  // tombstones, one per row
  std::vector<Id> ids_;                // id of each row once mapped_ (after a compact)
  bool mapped_ = false;                // false: the id of a row is the row
  Eigen::Index num_removed_ = 0;
  Id next_id_ = 0;
};

}  // namespace pstable
