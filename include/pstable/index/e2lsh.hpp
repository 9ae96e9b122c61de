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
#include "pstable/core/range_neighbors.hpp"
#include "pstable/core/topk.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/gemm.hpp"
#include "pstable/detail/huge_page_allocator.hpp"
#include "pstable/detail/id_map.hpp"
#include "pstable/detail/index_serializer.hpp"
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/point_set.hpp"
#include "pstable/detail/range_collector.hpp"
#include "pstable/detail/result_row.hpp"
#include "pstable/detail/thread_scratch.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/bucket_table.hpp"
#include "pstable/index/candidate_walk.hpp"
#include "pstable/index/e2lsh_params.hpp"
#include "pstable/index/families.hpp"
#include "pstable/index/hashing.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Approximate k-nearest-neighbour search with p-stable LSH (E2LSH: Datar et al. 2004, Andoni)
/// and optional query-directed multi-probe (Lv et al. 2007).
///
/// L tables; table t keys a point by its k slots h_i(p) = floor((a_i . p + b_i) / w), a_i drawn
/// from the metric's p-stable family (`LshFamilyOf<Metric>`: Gaussian for Euclidean and cosine,
/// Cauchy for Manhattan; see detail::HashFamily for the portable random draws). A query looks up its own bucket in every
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
/// Storage: the rows are held by `Storage` (default: full-precision rows, detail::PointSet), which
/// validates them and scores a candidate for a query; the index never touches a row itself.
///
/// Files: `save_index(index, path)` (pstable/io/index_file.hpp) writes the whole state (rows,
/// tombstones, id map, hash functions, tables) to a versioned, checksummed index file
/// (docs/file-format.md) through a temporary renamed over `path`; `load_index<E2LSHIndex<T,
/// Metric>>(path)` reads it back without rehashing, and the loaded index returns the same results,
/// visited and probed counts bit for bit, keeps the removed points removed and hands out the same
/// next ids. `load_index<...>(path, LoadMode::map)` maps the file read-only instead and reads the
/// rows in place (shared with other processes mapping it; the tables and the rest are copied);
/// such an index is fully usable: `remove` only marks tombstones in memory, and the first `add`
/// or `compact` copies the rows out of the mapping (copy on first write; the file is never
/// written).
///
/// Thread safety: `add`, `remove`, `compact`, `set_num_probes` and `set_min_collisions` need
/// exclusive access. `search`, `search_filtered`, `search_radius` and saving are const and may
/// run from many threads at once; each search call itself splits its queries over `num_threads`
/// threads of the shared pool (0, the default, = pstable::get_num_threads(): all allowed CPUs
/// unless set; one query block runs on the calling thread). Search scratch is kept per thread,
/// the pool's workers included, and reused across calls (about 18 bytes per indexed row of the
/// largest index searched, per searching thread, held while the thread lives).
template <class T, class Metric, class Storage = detail::PointSet<T, Metric>>
class E2LSHIndex {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "E2LSHIndex supports float and double");
  static_assert(has_lsh_family_v<Metric>,
                "E2LSHIndex needs a metric with a p-stable hash family (LshFamilyOf): Euclidean, "
                "Cosine or Manhattan");

 public:
  using Scalar = T;
  using MetricType = Metric;
  using StorageType = Storage;
  /// The p-stable distribution of the projections.
  using Family = typename LshFamilyOf<Metric>::type;
  using HashFunctions = detail::HashFamily<T, Family>;
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
  Eigen::Index size() const noexcept { return ids_.live(); }
  /// Removed points still held until `compact()`.
  Eigen::Index num_removed() const noexcept { return ids_.num_removed(); }
  /// The id the next added row receives.
  Id next_id() const noexcept { return ids_.next_id(); }
  /// False while the rows are read in place from a mapped file (load_index with LoadMode::map);
  /// the first `add` or `compact` copies them into the index.
  bool owns_data() const noexcept { return points_.owns_data(); }

  /// True when `id` was added and not removed.
  bool contains(Id id) const noexcept { return ids_.contains(id); }
  /// The ids searches can return (size() of them), in insertion order.
  std::vector<Id> ids() const { return ids_.live_ids(); }

  /// Bytes held: rows and norms, projections, tables (4 bytes per row per table plus about 14
  /// per bucket), tombstones and the id map.
  std::size_t memory_bytes() const noexcept {
    std::size_t bytes = points_.memory_bytes() + hashes_.memory_bytes() + ids_.memory_bytes();
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

  /// Appends rows with ids next_id(), next_id() + 1, ... Validates everything first: on an
  /// exception the index is as it was.
  void add(const MatrixRef<T>& rows) { add_rows(rows, nullptr); }

  /// Appends rows with ids of the caller's choosing, ids[i] for row i, as ExactIndex::add(rows,
  /// ids): each in [0, 2^62), none repeated, none held (a removed id is held until
  /// `compact()`); next_id() becomes one past the largest id held. Throws InvalidArgument
  /// (naming the id) before changing anything.
  void add(const MatrixRef<T>& rows, const std::vector<Id>& ids) {
    detail::check_id_count(ids.size(), rows.rows());
    add_rows(rows, ids.data());
  }

  /// Hides point `id` from every later search. Throws InvalidArgument when `id` was never added
  /// or is already removed.
  void remove(Id id) { ids_.remove(id); }

  /// Drops the removed points' rows and table entries, reclaiming their memory. Ids of the
  /// remaining points do not change. O(size() * (dim + L)).
  void compact() {
    if (ids_.num_removed() == 0) return;
    std::vector<std::uint32_t> remap;
    detail::IdMap ids = ids_.compacted();
    const RowMatrix<T> kept = ids_.live_rows<T>(
        dim(), [&](Eigen::Index r) { return points_.row(static_cast<Id>(r)); }, &remap, kGone);
    Storage points(dim());
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
    ids_ = std::move(ids);
  }

  /// The k best points for each query row (see Neighbors; padded with id -1 and distance +inf,
  /// or similarity -inf, when the probed buckets held fewer than k live points, as always when
  /// k > size()). Throws if k < 1, the index is empty, queries have the wrong width or hold
  /// NaN/inf (or zero rows under cosine).
  Neighbors<T> search(const MatrixRef<T>& queries, Eigen::Index k, int num_threads = 0) const {
    return search_impl(
        queries, k, [](Id) { return true; }, num_threads);
  }

  /// As search, returning only ids with keep(id) true. keep is called at most once per distinct
  /// candidate per query, before its distance is computed, from the pool's threads: it must be
  /// safe to call concurrently unless num_threads is 1 (the default, 0, uses get_num_threads()
  /// threads). Rejected points count in neither visited() nor the results.
  template <class Keep>
  Neighbors<T> search_filtered(const MatrixRef<T>& queries, Eigen::Index k, Keep&& keep,
                               int num_threads = 0) const {
    return search_impl(queries, k, keep, num_threads);
  }

  /// The r-near-neighbour query E2LSH was designed for (Datar et al. 2004): for each query row,
  /// the candidates from the probed buckets (points in at least min_collisions of them; no
  /// top-up from fewer collisions) whose exact distance is <= radius, or for Cosine whose
  /// similarity is >= radius (a threshold). See RangeNeighbors. Every returned point is truly in
  /// range with its exact distance; a point in range is missed when it shares too few buckets
  /// with the query (recall depends on radius / bucket_width, docs/e2lsh.md). Throws if radius is
  /// NaN (or negative for a distance), queries have the wrong width or hold NaN/inf (or zero
  /// rows under cosine). An empty index returns no results.
  RangeNeighbors<T> search_radius(const MatrixRef<T>& queries, T radius,
                                  int num_threads = 0) const {
    return search_radius_impl(
        queries, radius, [](Id) { return true; }, num_threads);
  }

  /// As search_radius, returning only ids with keep(id) true (called as by search_filtered).
  template <class Keep>
  RangeNeighbors<T> search_radius_filtered(const MatrixRef<T>& queries, T radius, Keep&& keep,
                                           int num_threads = 0) const {
    return search_radius_impl(queries, radius, keep, num_threads);
  }

  /// The hash functions (for tests and serializers).
  const HashFunctions& hash_family() const noexcept { return hashes_; }
  /// The tables; rows in them are internal row numbers (see id_of).
  const std::vector<detail::BucketTable>& tables() const noexcept { return tables_; }
  /// The id of internal row `row`.
  Id id_of(std::uint32_t row) const noexcept { return ids_.id_of(row); }

 private:
  template <class, class>
  friend struct detail::IndexSerializer;

  static constexpr Eigen::Index kHashBlock = 4096;
  static constexpr Eigen::Index kQueryBlock = 128;  // queries hashed and grouped together
  static constexpr std::size_t kPrefetchAhead = 2;  // candidates whose rows load ahead
  static constexpr Eigen::Index kGroupFrom = 8;     // queries from which verify groups by row
  static constexpr std::size_t kRefineAhead = 4;    // candidates whose codes load ahead (refine)
  static constexpr std::size_t kSketchAhead = 8;    // candidates whose sketches load ahead
  static constexpr std::uint32_t kGone = std::numeric_limits<std::uint32_t>::max();

  // add and add with ids (ids null: default ids).
  void add_rows(const MatrixRef<T>& rows, const Id* ids) {
    points_.validate_rows(rows, "data");
    if (rows.rows() > kMaxRows - points_.size()) {
      throw InvalidArgument(detail::concat("adding ", rows.rows(), " rows to ", points_.size(),
                                           " exceeds the ", kMaxRows,
                                           " rows an E2LSH index holds; split the data"));
    }
    const Eigen::Index m = rows.rows();
    if (m == 0) return;
    ids_.reserve(m, ids);  // checks the ids before the work
    const auto first = static_cast<std::uint32_t>(points_.size());
    const int L = params_.num_tables;
    const int k = params_.num_hashes;

    // Every new row's key in every table (table t's at keys[t * m + i]), from one product per
    // block of rows; then each table is sorted by key and built, or merged into the old one.
    const auto count = static_cast<std::size_t>(m);
    std::vector<std::uint64_t, detail::HugePageAllocator<std::uint64_t>> keys(
        count * static_cast<std::size_t>(L));
    RowMatrix<T> block, f;
    detail::GemmWorkspace<T> gemm;
    std::vector<std::int32_t> slots(static_cast<std::size_t>(k));
    for (Eigen::Index r0 = 0; r0 < m; r0 += kHashBlock) {
      const Eigen::Index nb = std::min(kHashBlock, m - r0);
      if constexpr (Metric::normalizes) {
        block = rows.middleRows(r0, nb);
        block.rowwise().normalize();
        hashes_.project(block, f, gemm);
      } else {
        hashes_.project(rows.middleRows(r0, nb), f, gemm);  // the same product, without a copy
      }
      detail::block_table_keys(f, L, k, keys.data() + r0, count, slots.data());
    }
    detail::TableBuilder builder;
    auto tables = detail::build_tables(keys.data(), count, first, tables_, builder);
    points_.append(rows);  // strong guarantee; nothing below throws
    tables_.swap(tables);
    ids_.append(m, ids);
  }

  static const E2LSHParams& checked(const E2LSHParams& params) {
    params.validate();
    return params;
  }

  template <class Keep>
  Neighbors<T> search_impl(const MatrixRef<T>& queries, Eigen::Index k, Keep&& keep,
                           int num_threads) const {
    points_.validate_rows(queries, "queries");
    detail::check_k(k, size());
    detail::check_threads(num_threads);
    Neighbors<T> result(queries.rows(), k, Metric::name);
    for_each_block(queries, static_cast<std::size_t>(k), keep, result.visited(), result.probed(),
                   num_threads, [&](Eigen::Index q0, Eigen::Index nb, Scratch& scratch) {
                     verify_block(q0, nb, scratch, result);
                   });
    return result;
  }

  // Range search: the same hash, probe and gather steps without top-up (k = 0), then every
  // candidate is scored exactly (storages with estimates read the full rows too) and kept when
  // in range.
  template <class Keep>
  RangeNeighbors<T> search_radius_impl(const MatrixRef<T>& queries, T radius, Keep&& keep,
                                       int num_threads) const {
    points_.validate_rows(queries, "queries");
    detail::check_radius<Metric>(radius);
    detail::check_threads(num_threads);
    detail::RangeCollector<T, Metric> found(queries.rows(), radius);
    if (size() == 0) return found.finish(num_threads);
    const auto& kernels = simd::kernels<T>();
    for_each_block(queries, 0, keep, found.visited(), found.probed(), num_threads,
                   [&](Eigen::Index q0, Eigen::Index nb, Scratch& scratch) {
                     visit_pairs<true>(nb, scratch, [&](std::uint32_t row, std::uint32_t qi) {
                       const T key =
                           points_.key(kernels, scratch.prepared[qi], static_cast<Id>(row));
                       found.offer(q0 + qi, key, id_of(row));
                     });
                   });
    return found.finish(num_threads);
  }

  // The steps every search runs, over blocks of kQueryBlock queries split among the threads: hash
  // the block (hash_block), probe and gather each query's candidates with keep(id) applied and
  // topped up to `top_up` when too few (gather_query; 0 = no top-up), then verify(q0, nb,
  // scratch) scores the block's candidates. Each thread leases its scratch once.
  template <class Keep, class Verify>
  void for_each_block(const MatrixRef<T>& queries, std::size_t top_up, Keep& keep,
                      CountVector& visited, CountVector& probed, int num_threads,
                      Verify&& verify) const {
    detail::parallel_for(queries.rows(), num_threads, kQueryBlock, [&](auto begin, auto end, int) {
      detail::ScratchLease<Scratch> lease;
      Scratch& scratch = lease.get();
      scratch.reserve(static_cast<std::size_t>(points_.size()), dim(), hashes_.num_functions());
      for (Eigen::Index q0 = begin; q0 < end; q0 += kQueryBlock) {
        const Eigen::Index nb = std::min(kQueryBlock, end - q0);
        hash_block(queries, q0, nb, scratch);
        scratch.gathered.clear();
        for (Eigen::Index i = 0; i < nb; ++i) {
          gather_query(queries, q0, i, top_up, keep, scratch, visited, probed);
        }
        scratch.first[static_cast<std::size_t>(nb)] = scratch.gathered.size();
        verify(q0, nb, scratch);
      }
    });
  }

  // A candidate's key interval from a storage with estimates (Storage::bounds).
  struct Bounded {
    double lo, hi;
    std::uint32_t row;
    std::uint32_t fetched = 0;  // refine prefetched its codes
  };

  // The k smallest upper ends offered so far (a max-heap) and the largest of them, the cut: a
  // candidate whose lower end exceeds the cut cannot be among the k best (+inf until k ends).
  struct UpperCut {
    std::vector<double> heap;
    std::size_t k = 0;
    double cut = std::numeric_limits<double>::infinity();

    void reset(std::size_t k_best) {
      heap.clear();
      k = k_best;
      cut = std::numeric_limits<double>::infinity();
    }
    void offer(double hi) {
      if (k == 0 || !(hi < cut)) return;
      if (heap.size() < k) {
        heap.push_back(hi);
        std::push_heap(heap.begin(), heap.end());
      } else {
        std::pop_heap(heap.begin(), heap.end());
        heap.back() = hi;
        std::push_heap(heap.begin(), heap.end());
      }
      if (heap.size() == k) cut = heap.front();
    }
  };

  // Per-thread scratch, reused across calls (detail::ScratchLease): sized by the largest index a
  // thread searched, never cleared per call (count, row_bits are left zero after every block).
  struct Scratch : detail::ScratchBase {
    detail::CandidateWalk walk;
    std::vector<std::uint32_t> gathered, used, by_row, count, head;
    std::vector<std::uint64_t> row_bits;
    std::vector<std::size_t> first;
    std::vector<const T*> prepared;
    std::vector<detail::TopK<T>> tops;
    std::vector<typename Storage::QueryCode> codes;
    std::vector<std::vector<Bounded>> found;
    std::vector<Bounded> refined;
    std::vector<UpperCut> cuts;
    std::vector<std::vector<T>> buffers;  // per query of a block: its prepared copy, if any
    RowMatrix<T> block, f;
    detail::GemmWorkspace<T> gemm;

    void reserve(std::size_t n, Eigen::Index d, Eigen::Index functions) {
      walk.reserve_rows(n);
      if (count.size() < n) {
        count.resize(n, 0);
        head.resize(n);
        row_bits.resize((n + 63) / 64, 0);
      }
      const auto qb = static_cast<std::size_t>(kQueryBlock);
      first.resize(qb + 1);
      prepared.resize(qb);
      tops.resize(qb, detail::TopK<T>(1));
      if constexpr (Storage::kEstimates) {
        codes.resize(qb);
        found.resize(qb);
        cuts.resize(qb);
      }
      buffers.resize(qb);
      block.resize(kQueryBlock, d);  // no-ops while the sizes stay: nothing reallocated per call
      f.resize(kQueryBlock, functions);
    }
    // After an exception mid-block: the arrays that must read zero are cleared.
    void recover() override {
      std::fill(count.begin(), count.end(), 0);
      std::fill(row_bits.begin(), row_bits.end(), 0);
    }
  };

  // Step "hash": one product gives the hash values of a block of queries.
  void hash_block(const MatrixRef<T>& queries, Eigen::Index q0, Eigen::Index nb, Scratch& s) const {
    auto rows = s.block.topRows(nb);
    rows = queries.middleRows(q0, nb);
    if constexpr (Metric::normalizes) rows.rowwise().normalize();
    auto f = s.f.topRows(nb);  // rows [nb, kQueryBlock) unused
    hashes_.project_into(rows, f, s.gemm);
  }

  // Steps "probe" and "gather" for query q0 + i: its distinct live candidates are appended to
  // s.gathered (detail::CandidateWalk, the walk the tuner runs too), topped up from fewer
  // collisions until there are `top_up` (0: none).
  template <class Keep>
  void gather_query(const MatrixRef<T>& queries, Eigen::Index q0, Eigen::Index i,
                    std::size_t top_up, Keep& keep, Scratch& s, CountVector& visited,
                    CountVector& probed) const {
    const auto qi = static_cast<std::size_t>(i);
    // A buffer per query of the block: a prepared copy lives until the verify step.
    s.prepared[qi] = points_.prepare_query(queries.row(q0 + i).data(), s.buffers[qi]);
    s.first[qi] = s.gathered.size();
    const auto min_hits = static_cast<std::uint32_t>(params_.min_collisions);
    s.walk.begin_query();
    s.walk.probe(s.f.row(i).data(), 0, params_.num_tables, params_.num_hashes, params_.num_probes);
    s.walk.gather(tables_, min_hits, [](std::uint32_t, std::uint32_t) {});
    const std::size_t accepted = s.walk.select_candidates(min_hits, top_up, [&](std::uint32_t row) {
      if (ids_.removed(row) || !keep(id_of(row))) return false;
      s.gathered.push_back(row);
      return true;
    });
    probed(q0 + i) = static_cast<std::int64_t>(s.walk.probed());
    visited(q0 + i) = static_cast<std::int64_t>(accepted);
  }

  // Step "verify": scores the block's (row, query) pairs and keeps each query's k best. With a
  // storage that estimates (Sq8Storage), every pair gets a key interval from the codes first and
  // only the pairs whose interval starts at or below the query's k-th smallest upper end are
  // scored exactly: the same results as scoring all, reading few full rows.
  void verify_block(Eigen::Index q0, Eigen::Index nb, Scratch& s, Neighbors<T>& out) const {
    const auto& kernels = simd::kernels<T>();
    const auto k = static_cast<std::size_t>(std::min(out.k(), size()));
    for (Eigen::Index i = 0; i < nb; ++i) s.tops[static_cast<std::size_t>(i)].reset(k);
    if constexpr (Storage::kEstimates) {
      for (Eigen::Index i = 0; i < nb; ++i) {
        const auto qi = static_cast<std::size_t>(i);
        points_.encode_query(s.prepared[qi], s.codes[qi]);
        s.found[qi].clear();
        s.cuts[qi].reset(k);
      }
      // Sketches first where candidates are scored query by query (a few queries): their codes
      // are read once per query, so the codes the sketches rule out are memory not read. A
      // larger block reads each row's codes once for all its queries (visit_pairs groups them),
      // and there the sketch stage would only add work.
      if (points_.has_sketch() && nb < kGroupFrom) {
        for (Eigen::Index i = 0; i < nb; ++i)
          sketch_then_codes(static_cast<std::size_t>(i), kernels, s);
      } else {
        // Pairs that start above their query's running cut are dropped at once (the cut only
        // falls, so rerank would drop them too).
        visit_pairs(nb, s, [&](std::uint32_t row, std::uint32_t qi) {
          const auto b = points_.bounds(kernels, s.codes[qi], static_cast<Id>(row));
          auto& cut = s.cuts[qi];
          if (b.lo > cut.cut) return;
          s.found[qi].push_back({b.lo, b.hi, row, 0});
          cut.offer(b.hi);
        });
      }
      for (Eigen::Index i = 0; i < nb; ++i) rerank(static_cast<std::size_t>(i), kernels, s);
    } else {
      visit_pairs(nb, s, [&](std::uint32_t row, std::uint32_t qi) {
        auto& top = s.tops[qi];
        const T key = points_.key(kernels, s.prepared[qi], static_cast<Id>(row));
        if (key <= top.threshold()) top.push(key, id_of(row));
      });
    }
    for (Eigen::Index i = 0; i < nb; ++i)
      detail::write_row<Metric>(s.tops[static_cast<std::size_t>(i)], out, q0 + i);
  }

  // Calls score(row, query) for every gathered pair of the block. A few queries are scored in
  // the order their candidates were gathered. A larger block is grouped by row (counting sort),
  // so that a row shared by several queries is read once, walking memory forwards; the rows
  // touched come out ascending from a bitmap scan, or from a sort when they are few against n.
  template <bool kFullRows = false, class Score>
  void visit_pairs(Eigen::Index nb, Scratch& s, Score&& score) const {
    // What score reads first: the storage's scoring data (codes for a storage with estimates),
    // or with kFullRows the full-precision rows.
    const auto fetch = [this](std::uint32_t row) {
      if constexpr (kFullRows) {
        points_.prefetch_row(row);
      } else {
        points_.prefetch(row);
      }
    };
    if (nb < kGroupFrom) {
      for (std::uint32_t qi = 0; qi < static_cast<std::uint32_t>(nb); ++qi) {
        const std::size_t end = s.first[qi + 1];
        for (std::size_t e = s.first[qi]; e < std::min(end, s.first[qi] + kPrefetchAhead); ++e)
          fetch(s.gathered[e]);
        for (std::size_t e = s.first[qi]; e < end; ++e) {
          if (e + kPrefetchAhead < end) fetch(s.gathered[e + kPrefetchAhead]);
          score(s.gathered[e], qi);
        }
      }
      return;
    }
    s.dirty = true;
    s.used.clear();
    for (const std::uint32_t row : s.gathered) {
      if (s.count[row]++ == 0) {
        s.row_bits[row >> 6] |= std::uint64_t{1} << (row & 63);
        s.used.push_back(row);
      }
    }
    const std::size_t words = (static_cast<std::size_t>(points_.size()) + 63) / 64;
    if (words > 8 * s.used.size()) {
      std::sort(s.used.begin(), s.used.end());
      for (const std::uint32_t row : s.used) s.row_bits[row >> 6] = 0;
    } else {
      s.used.clear();
      for (std::size_t w = 0; w < words; ++w) {
        for (std::uint64_t bits = s.row_bits[w]; bits != 0; bits &= bits - 1) {
          s.used.push_back(
              static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))));
        }
        s.row_bits[w] = 0;
      }
    }
    std::uint32_t running = 0;
    for (const std::uint32_t row : s.used) {
      s.head[row] = running;
      running += s.count[row];
      s.count[row] = s.head[row];  // now the fill cursor
    }
    s.by_row.resize(s.gathered.size());
    for (Eigen::Index i = 0; i < nb; ++i) {
      const auto qi = static_cast<std::size_t>(i);
      for (std::size_t e = s.first[qi]; e < s.first[qi + 1]; ++e) {
        s.by_row[s.count[s.gathered[e]]++] = static_cast<std::uint32_t>(i);
      }
    }
    const std::size_t nu = s.used.size();
    for (std::size_t c = 0; c < std::min(nu, kPrefetchAhead); ++c) fetch(s.used[c]);
    for (std::size_t c = 0; c < nu; ++c) {
      if (c + kPrefetchAhead < nu) fetch(s.used[c + kPrefetchAhead]);
      const std::uint32_t row = s.used[c];
      for (std::uint32_t e = s.head[row]; e < s.count[row]; ++e) score(row, s.by_row[e]);
      s.count[row] = 0;
    }
    s.dirty = false;
  }

  // Query qi's candidate intervals for a storage with sketches: every candidate's sketch
  // interval (two lines per row, prefetched ahead), then refine.
  [[gnu::noinline]] void sketch_then_codes(std::size_t qi, const simd::KernelSet<T>& kernels,
                                           Scratch& s) const {
    auto& qc = s.codes[qi];
    points_.encode_sketch(qc);
    auto& found = s.found[qi];
    const std::size_t begin = s.first[qi], end = s.first[qi + 1];
    for (std::size_t e = begin; e < std::min(end, begin + kSketchAhead); ++e)
      points_.prefetch_sketch(s.gathered[e]);
    for (std::size_t e = begin; e < end; ++e) {
      if (e + kSketchAhead < end) points_.prefetch_sketch(s.gathered[e + kSketchAhead]);
      const std::uint32_t row = s.gathered[e];
      const auto b = points_.coarse_bounds(qc, static_cast<Id>(row));
      found.push_back({b.lo, b.hi, row, 0});
    }
    refine(qi, kernels, s);
  }

  // Narrows query qi's sketch intervals (storages with has_sketch) to the codes' intervals,
  // reading the codes only of candidates whose sketch interval starts at or below the k-th
  // smallest upper end of the code intervals so far: the others cannot be among the k best.
  // Codes are prefetched a few candidates ahead, for those that pass the current cut.
  void refine(std::size_t qi, const simd::KernelSet<T>& kernels, Scratch& s) const {
    auto& found = s.found[qi];
    auto& cut = s.cuts[qi];  // reset by verify_block: no code interval offered yet
    s.refined.clear();
    const std::size_t n = found.size();
    // Codes are prefetched for the next kRefineAhead candidates that pass the current cut (the
    // cut only falls, so a few prefetched ones are skipped after all).
    std::size_t ahead = 0, passing = 0;
    for (std::size_t e = 0; e < n; ++e) {
      for (; ahead < n && passing < kRefineAhead; ++ahead) {
        if (found[ahead].lo <= cut.cut) {
          points_.prefetch(found[ahead].row);
          found[ahead].fetched = 1;
          ++passing;
        }
      }
      const Bounded c = found[e];
      passing -= c.fetched;
      if (c.lo > cut.cut) continue;
      const auto b = points_.bounds(kernels, s.codes[qi], static_cast<Id>(c.row));
      const Bounded narrowed{std::max(b.lo, c.lo), std::min(b.hi, c.hi), c.row, 0};
      s.refined.push_back(narrowed);
      cut.offer(narrowed.hi);
    }
    found.swap(s.refined);
  }

  // Exact keys for the candidates of query qi whose interval starts at or below the k-th
  // smallest upper end (every candidate whose true key can be among the k best), in ascending
  // order of lower end: once k keys are known, the k-th best of them is a tighter cut than the
  // upper ends (Storage::key_cut puts it on the intervals' scale), and the first candidate whose
  // lower end exceeds it ends the walk (the rest start higher still). Wide intervals (4-bit
  // codes) re-read about a third of the rows the upper-end cut alone would.
  void rerank(std::size_t qi, const simd::KernelSet<T>& kernels, Scratch& s) const {
    auto& found = s.found[qi];
    auto& top = s.tops[qi];
    const std::size_t k = top.k();
    const double cut = s.cuts[qi].cut;  // the k-th smallest upper end of `found`
    const auto end =
        std::partition(found.begin(), found.end(), [cut](const Bounded& c) { return c.lo <= cut; });
    std::sort(found.begin(), end, [](const Bounded& a, const Bounded& b) { return a.lo < b.lo; });
    const auto nr = static_cast<std::size_t>(end - found.begin());
    for (std::size_t c = 0; c < std::min(nr, kPrefetchAhead); ++c)
      points_.prefetch_row(found[c].row);
    const auto& qc = s.codes[qi];
    for (std::size_t c = 0; c < nr; ++c) {
      if (k > 0 && top.full() && found[c].lo > points_.key_cut(qc, top.threshold())) break;
      if (c + kPrefetchAhead < nr) points_.prefetch_row(found[c + kPrefetchAhead].row);
      const std::uint32_t row = found[c].row;
      const T key = points_.key(kernels, s.prepared[qi], static_cast<Id>(row));
      if (key <= top.threshold()) top.push(key, id_of(row));
    }
  }

  E2LSHParams params_;
  Storage points_;
  HashFunctions hashes_;
  std::vector<detail::BucketTable> tables_;
  detail::IdMap ids_;  // the rows' ids and tombstones
};

}  // namespace pstable
