#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
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
#include "pstable/detail/id_map.hpp"
#include "pstable/detail/index_serializer.hpp"
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/point_set.hpp"
#include "pstable/detail/range_collector.hpp"
#include "pstable/detail/result_row.hpp"
#include "pstable/detail/thread_scratch.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"

namespace pstable {

/// Exact (sequential) k-nearest-neighbour search: every query is compared with every point.
///
/// Data: `add` copies rows into the index, which owns them; `ExactIndex::borrow` keeps a pointer
/// to rows the caller owns and must keep alive and unchanged while the index is used (no copy);
/// an index loaded with LoadMode::map reads its rows from the mapped file, which it keeps alive.
/// An `add` to a borrowing index first copies the borrowed rows (owns_data() becomes true).
/// Cosine never modifies the rows: it keeps their inverse norms beside them.
///
/// Search: for metrics with a product form (Euclidean, cosine, inner product) a batch of at least
/// `kBatchThreshold` queries is computed as matrix products through
/// Eigen's GEMM (||x||^2 - 2 x.q + ||q||^2), in cache-sized blocks with top-k selection fused in,
/// query blocks split over `num_threads`. The expansion loses precision to cancellation, so the
/// GEMM pass keeps `k + kRescoreExtra` candidates, which are re-scored with the SIMD kernels
/// before the best k are kept: reported distances are exact and near-ties are ordered correctly.
/// Metrics without one (Manhattan) compare blocks of queries with cache-sized tiles of points
/// through the SIMD kernels. Fewer queries are answered by a streaming scan with the
/// SIMD kernels and a bounded heap. Both give brute-force results with ties broken by the smaller
/// id (up to floating-point rounding between nearly equal distances). Range search
/// (`search_radius`) compares every query with every point through the SIMD kernels, in tiles.
/// `search_filtered` and `search_radius_filtered` return only the ids a predicate allows, which
/// is asked once per point before the scan: rejected points cost no distance.
///
/// Ids: rows get ids 0, 1, 2, ... in insertion order, across `add` calls. `remove(id)` hides a
/// point from every later search at once; `compact()` drops the removed rows, and the other ids
/// do not change (as in E2LSHIndex: detail::IdMap); an id is never reused.
///
/// Files: `save_index(index, path)` (include pstable/io/index_file.hpp) writes the rows to a
/// versioned, checksummed index file (docs/file-format.md) through a temporary renamed over
/// `path`; `load_index<ExactIndex<T, Metric>>(path)` reads it back as an owning index that returns
/// the same search results bit for bit; `load_index<...>(path, LoadMode::map)` as an index that
/// reads the rows in place from a read-only mapping of the file (only the norms are computed).
///
/// Thread safety: `add`, `remove` and `compact` need exclusive access; `search` and `save` are const and may run from
/// many threads at once. A batch `search` splits its queries over `num_threads` threads of the
/// shared pool (0, the default, = pstable::get_num_threads(): all allowed CPUs unless set); a
/// search of one query runs on the calling thread.
template <class T, class Metric>
class ExactIndex {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "ExactIndex supports float and double");
  static_assert(is_metric_v<Metric>, "Metric must be one of pstable::Metrics");

 public:
  using Scalar = T;
  using MetricType = Metric;
  static constexpr Eigen::Index kBatchThreshold = 16;

  /// An empty index for points with `dim` coordinates.
  explicit ExactIndex(Eigen::Index dim) : points_(dim) {}

  /// An index over `rows` x `dim` values at `data`, which the caller keeps alive and unchanged
  /// while the index exists, or which `owner` keeps alive: the index (and its copies) hold
  /// `owner` for as long as they read `data` (load_index with LoadMode::map passes the mapped
  /// file). Nothing is copied (until a later `add`).
  static ExactIndex borrow(const T* data, Eigen::Index rows, Eigen::Index dim,
                           std::shared_ptr<const void> owner = {}) {
    ExactIndex index(dim);
    if (rows < 0) throw InvalidArgument(detail::concat("rows must be >= 0, got ", rows));
    if (rows > 0 && data == nullptr) throw InvalidArgument("data is null");
    const Eigen::Map<const RowMatrix<T>> view(data, rows, dim);
    index.points_.validate_rows(view, "data");
    index.ids_.reserve(rows);
    index.points_.borrow(data, rows, std::move(owner));
    index.ids_.append(rows);
    return index;
  }

  Eigen::Index dim() const noexcept { return points_.dim(); }
  /// Points searches can return (added minus removed).
  Eigen::Index size() const noexcept { return ids_.live(); }
  /// Removed points still held until `compact()`.
  Eigen::Index num_removed() const noexcept { return ids_.num_removed(); }
  /// The id the next added row receives.
  Id next_id() const noexcept { return ids_.next_id(); }
  bool owns_data() const noexcept { return points_.owns_data(); }
  /// True when `id` was added and not removed.
  bool contains(Id id) const noexcept { return ids_.contains(id); }
  /// The ids searches can return (size() of them), in insertion order.
  std::vector<Id> ids() const { return ids_.live_ids(); }

  /// The stored rows in insertion order, removed ones included until `compact()`.
  Eigen::Map<const RowMatrix<T>> data() const noexcept { return points_.matrix(); }

  /// Bytes the index holds (rows it owns, per-row norms, tombstones and the id map).
  std::size_t memory_bytes() const noexcept { return points_.memory_bytes() + ids_.memory_bytes(); }

  /// Appends rows with ids next_id(), next_id() + 1, ... Validates everything before changing
  /// anything: on an exception the index is as it was.
  void add(const MatrixRef<T>& rows) { add_rows(rows, nullptr); }

  /// Appends rows with ids of the caller's choosing, ids[i] for row i (FAISS's add_with_ids,
  /// hnswlib's labels): each in [0, 2^62), none repeated, none held (a removed id is held until
  /// `compact()`). next_id() becomes one past the largest id held, so later adds without ids
  /// never collide. Throws InvalidArgument (naming the id) before changing anything.
  void add(const MatrixRef<T>& rows, const std::vector<Id>& ids) {
    detail::check_id_count(ids.size(), rows.rows());
    add_rows(rows, ids.data());
  }

  /// Hides point `id` from every later search. Throws InvalidArgument when `id` was never added
  /// or is already removed.
  void remove(Id id) { ids_.remove(id); }

  /// Drops the removed points' rows, reclaiming their memory (a borrowed or mapped index copies
  /// the rest into memory it owns). Ids of the remaining points do not change. O(size() * dim).
  void compact() {
    if (ids_.num_removed() == 0) return;
    const RowMatrix<T> kept =
        ids_.live_rows<T>(dim(), [&](Eigen::Index r) { return points_.row(r); });
    detail::IdMap ids = ids_.compacted();
    detail::PointSet<T, Metric> points(dim());
    points.append(kept);
    points_ = std::move(points);
    ids_ = std::move(ids);
  }

  /// The k best points for each query row (see Neighbors). With k > size() every row holds all
  /// size() points, then padding (id -1, distance +inf or similarity -inf). Throws if k < 1, the
  /// index is empty, queries have the wrong width or hold NaN/inf (or zero rows under cosine).
  Neighbors<T> search(const MatrixRef<T>& queries, Eigen::Index k, int num_threads = 0) const {
    check_search(queries, k, num_threads);
    if (ids_.num_removed() == 0) return search_impl(queries, k, AllowAll{rows()}, num_threads);
    return search_impl(queries, k, AllowLive{ids_.tombstones().data(), size()}, num_threads);
  }

  /// As search, returning only ids with keep(id) true (as E2LSHIndex::search_filtered). keep is
  /// called once per point per call, on the calling thread, after the arguments are checked and
  /// before any distance is computed; rejected points count in neither visited() nor the results,
  /// and rows with fewer than k allowed points are padded.
  template <class Keep>
  Neighbors<T> search_filtered(const MatrixRef<T>& queries, Eigen::Index k, Keep&& keep,
                               int num_threads = 0) const {
    check_search(queries, k, num_threads);
    const auto mask = allowed_mask(keep);
    return search_impl(queries, k, mask.allow(), num_threads);
  }

  /// Every point within `radius` of each query row (see RangeNeighbors): distance <= radius for
  /// Euclidean and Manhattan, similarity >= radius (a threshold) for Cosine and InnerProduct.
  /// Every point is compared through the SIMD kernels (as brute force does), so the result is
  /// exact. Throws if radius is NaN (or negative for a distance), queries have the wrong width or
  /// hold NaN/inf (or zero rows under cosine). An empty index returns no results.
  RangeNeighbors<T> search_radius(const MatrixRef<T>& queries, T radius,
                                  int num_threads = 0) const {
    check_radius_search(queries, radius, num_threads);
    if (ids_.num_removed() == 0) {
      return search_radius_impl(queries, radius, AllowAll{rows()}, num_threads);
    }
    return search_radius_impl(queries, radius, AllowLive{ids_.tombstones().data(), size()},
                              num_threads);
  }

  /// As search_radius, returning only ids with keep(id) true (called as by search_filtered).
  template <class Keep>
  RangeNeighbors<T> search_radius_filtered(const MatrixRef<T>& queries, T radius, Keep&& keep,
                                           int num_threads = 0) const {
    check_radius_search(queries, radius, num_threads);
    const auto mask = allowed_mask(keep);
    return search_radius_impl(queries, radius, mask.allow(), num_threads);
  }

 private:
  // Eigen packs (copies) each block of points once per block of queries, so the database is
  // copied once per query block: with 128 queries a block the packing took
  // 12% of a Fashion-MNIST batch, with 512 3.5% (perf, bench/bench_search.cpp). The products of
  // one block pair, 512 x 1024 floats (2 MB), stay in the L2/L3 caches for the top-k pass.
  static constexpr Eigen::Index kQueryBlock = 512;
  static constexpr Eigen::Index kPointBlock = 1024;
  static constexpr Eigen::Index kRescoreExtra = 16;
  static constexpr Eigen::Index kTileQueries = 64;  // queries compared with each tile of points

  template <class, class>
  friend struct detail::IndexSerializer;

  // The rows a search may return, `count` of them: every row, the rows not removed, or those
  // marked in a mask. A type each, so that the unfiltered scan has no test per row.
  struct AllowAll {
    Eigen::Index count;
    constexpr bool operator()(Id) const noexcept { return true; }
  };
  struct AllowLive {
    const std::uint8_t* removed;
    Eigen::Index count;
    bool operator()(Id row) const noexcept { return removed[static_cast<std::size_t>(row)] == 0; }
  };
  struct AllowMask {
    const std::uint8_t* mask;
    Eigen::Index count;
    bool operator()(Id id) const noexcept { return mask[static_cast<std::size_t>(id)] != 0; }
  };
  struct Mask {
    std::vector<std::uint8_t> bits;
    Eigen::Index count = 0;
    AllowMask allow() const noexcept { return {bits.data(), count}; }
  };

  // The rows not removed whose id keep() allows; keep is asked once per such row.
  template <class Keep>
  Mask allowed_mask(Keep& keep) const {
    Mask mask;
    mask.bits.resize(static_cast<std::size_t>(rows()));
    for (Eigen::Index r = 0; r < rows(); ++r) {
      const bool allowed = !ids_.removed(r) && keep(ids_.id_of(r));
      mask.bits[static_cast<std::size_t>(r)] = allowed ? 1 : 0;
      mask.count += allowed ? 1 : 0;
    }
    return mask;
  }

  // Rows held, removed ones included: the range every scan runs over.
  Eigen::Index rows() const noexcept { return points_.size(); }

  void add_rows(const MatrixRef<T>& rows, const Id* ids) {
    points_.validate_rows(rows, "data");
    ids_.reserve(rows.rows(), ids);
    points_.append(rows);  // strong guarantee; nothing below throws
    ids_.append(rows.rows(), ids);
  }

  void check_search(const MatrixRef<T>& queries, Eigen::Index k, int num_threads) const {
    points_.validate_rows(queries, "queries");
    detail::check_k(k, size());
    detail::check_threads(num_threads);
  }

  void check_radius_search(const MatrixRef<T>& queries, T radius, int num_threads) const {
    points_.validate_rows(queries, "queries");
    detail::check_radius<Metric>(radius);
    detail::check_threads(num_threads);
  }

  template <class Allowed>
  Neighbors<T> search_impl(const MatrixRef<T>& queries, Eigen::Index k, const Allowed& allowed,
                           int num_threads) const {
    Neighbors<T> result(queries.rows(), k, Metric::name);
    if (allowed.count == 0) {  // nothing to rank: every slot is padding
      result.distances().setConstant(detail::padding_value<Metric, T>());
      return result;
    }
    if (queries.rows() < kBatchThreshold) {
      detail::parallel_for(queries.rows(), num_threads, 1, [&](auto begin, auto end, int) {
        std::vector<T> buffer(static_cast<std::size_t>(dim()));
        detail::TopK<T> top(static_cast<std::size_t>(std::min(k, allowed.count)));
        for (auto q = begin; q < end; ++q) {
          scan_one(queries.row(q), allowed, top, buffer, result, q);
        }
      });
    } else {
      // Slices of at most kQueryBlock queries, but small enough that every thread gets one.
      const Eigen::Index threads = detail::resolve_threads(num_threads);
      const Eigen::Index grain =
          std::clamp((queries.rows() + threads - 1) / threads, kBatchThreshold, kQueryBlock);
      detail::parallel_for(queries.rows(), num_threads, grain, [&](auto begin, auto end, int) {
        if constexpr (Metric::has_product_form) {
          search_blocks(queries, begin, end, allowed, result);
        } else {
          TopKHandler handler(result, ids_, std::min(k, allowed.count), allowed.count);
          scan_tiles(queries, begin, end, allowed, handler);
        }
      });
    }
    return result;
  }

  template <class Allowed>
  RangeNeighbors<T> search_radius_impl(const MatrixRef<T>& queries, T radius,
                                       const Allowed& allowed, int num_threads) const {
    detail::RangeCollector<T, Metric> found(queries.rows(), radius);
    detail::parallel_for(queries.rows(), num_threads, 1, [&](auto begin, auto end, int) {
      RangeHandler handler{found, ids_, allowed.count};
      scan_tiles(queries, begin, end, allowed, handler);
    });
    return found.finish(num_threads);
  }

  template <class Allowed>
  void scan_one(const Eigen::Ref<const RowVector<T>>& query, const Allowed& allowed,
                detail::TopK<T>& top, std::vector<T>& buffer, Neighbors<T>& out,
                Eigen::Index q) const {
    const auto& kernels = simd::kernels<T>();
    const T* qp = points_.prepare_query(query.data(), buffer);
    top.reset(top.k());
    for (Id i = 0; i < rows(); ++i) {
      if (!allowed(i)) continue;
      const T s = points_.key(kernels, qp, i);
      if (s <= top.threshold()) top.push(s, ids_.id_of(i));
    }
    out.visited()(q) = allowed.count;
    detail::write_row<Metric>(top, out, q);
  }

  // The GEMM path's buffers, one set per thread, kept across searches (detail::ScratchLease):
  // nothing of the size of a block is allocated per call. They grow to the largest blocks the
  // thread has searched (a thread given 16 queries of a split batch holds 16 rows, not 512).
  struct BlockScratch : detail::ScratchBase {
    RowMatrix<T> qblock;
    std::vector<T, Eigen::aligned_allocator<T>> products;
    std::vector<detail::TopK<T>> tops;
    std::vector<T> buffer;
    detail::GemmWorkspace<T> gemm;

    void reserve(Eigen::Index queries, Eigen::Index points, Eigen::Index dim) {
      if (qblock.rows() < queries || qblock.cols() != dim) {
        qblock.resize(std::max(queries, qblock.cols() == dim ? qblock.rows() : 0), dim);
      }
      detail::grow_exact(products, static_cast<std::size_t>(queries * points));
      if (tops.size() < static_cast<std::size_t>(queries)) {
        tops.resize(static_cast<std::size_t>(queries));
      }
    }
  };

  // GEMM path for queries [begin, end): blocks of queries x blocks of points.
  template <class Allowed>
  void search_blocks(const MatrixRef<T>& queries, Eigen::Index begin, Eigen::Index end,
                     const Allowed& allowed, Neighbors<T>& out) const {
    const auto& kernels = simd::kernels<T>();
    const auto k = static_cast<std::size_t>(std::min(allowed.count, out.k()));
    const auto kept = static_cast<std::size_t>(std::min(allowed.count, out.k() + kRescoreExtra));
    detail::ScratchLease<BlockScratch> lease;
    BlockScratch& s = lease.get();
    s.reserve(std::min(kQueryBlock, end - begin), std::min(kPointBlock, rows()), dim());
    for (Eigen::Index q0 = begin; q0 < end; q0 += kQueryBlock) {
      const Eigen::Index nq = std::min(kQueryBlock, end - q0);
      auto qblock = s.qblock.topRows(nq);
      qblock = queries.middleRows(q0, nq);
      if constexpr (Metric::normalizes) qblock.rowwise().normalize();
      for (Eigen::Index i = 0; i < nq; ++i) s.tops[static_cast<std::size_t>(i)].reset(kept);
      for (Eigen::Index p0 = 0; p0 < rows(); p0 += kPointBlock) {
        const Eigen::Index np = std::min(kPointBlock, rows() - p0);
        Eigen::Map<RowMatrix<T>> products(s.products.data(), nq, np);
        s.gemm.multiply(qblock, points_.rows(p0, np).transpose(), products);
        for (Eigen::Index i = 0; i < nq; ++i) {
          select_block(products.row(i).data(), p0, np, allowed,
                       s.tops[static_cast<std::size_t>(i)]);
        }
      }
      for (Eigen::Index i = 0; i < nq; ++i) {
        auto& top = s.tops[static_cast<std::size_t>(i)];
        rescore(kernels, queries.row(q0 + i), k, top, s.buffer);
        out.visited()(q0 + i) = allowed.count;
        detail::write_row<Metric>(top, out, q0 + i);
      }
    }
  }

  // Kernel path for queries [begin, end): each tile of kTileRows points (a few hundred KB) is
  // compared with every query of a block while it stays in cache. The handler collects
  // (FAISS's BlockResultHandler): begin(q0, nq) starts a block of queries, add(i, key, id) offers
  // point id to query q0 + i, end(q0, nq) finishes the block. Points `allowed` rejects are skipped.
  template <class Allowed, class Handler>
  void scan_tiles(const MatrixRef<T>& queries, Eigen::Index begin, Eigen::Index end,
                  const Allowed& allowed, Handler& handler) const {
    const auto& kernels = simd::kernels<T>();
    const Eigen::Index tile =
        std::max<Eigen::Index>(16, (Eigen::Index{1} << 18) / (dim() * Eigen::Index{sizeof(T)}));
    std::vector<std::vector<T>> buffers(static_cast<std::size_t>(kTileQueries));
    std::vector<const T*> prepared(static_cast<std::size_t>(kTileQueries));
    for (Eigen::Index q0 = begin; q0 < end; q0 += kTileQueries) {
      const Eigen::Index nq = std::min(kTileQueries, end - q0);
      handler.begin(q0, nq);
      for (Eigen::Index i = 0; i < nq; ++i) {
        const auto qi = static_cast<std::size_t>(i);
        prepared[qi] = points_.prepare_query(queries.row(q0 + i).data(), buffers[qi]);
      }
      for (Id p0 = 0; p0 < rows(); p0 += tile) {
        const Id p1 = std::min<Id>(rows(), p0 + tile);
        for (Eigen::Index i = 0; i < nq; ++i) {
          const T* qp = prepared[static_cast<std::size_t>(i)];
          for (Id p = p0; p < p1; ++p) {
            if (allowed(p)) handler.add(i, points_.key(kernels, qp, p), p);
          }
        }
      }
      handler.end(q0, nq);
    }
  }

  // scan_tiles handler of search: the k best per query (at most the allowed points; write_row
  // pads), each query having visited `visited` points.
  struct TopKHandler {
    Neighbors<T>& out;
    const detail::IdMap& ids;
    std::size_t k;
    Eigen::Index visited;
    std::vector<detail::TopK<T>> tops;

    TopKHandler(Neighbors<T>& result, const detail::IdMap& id_map, Eigen::Index best,
                Eigen::Index allowed)
        : out(result),
          ids(id_map),
          k(static_cast<std::size_t>(best)),
          visited(allowed),
          tops(static_cast<std::size_t>(kTileQueries), detail::TopK<T>(k)) {}
    void begin(Eigen::Index, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) tops[static_cast<std::size_t>(i)].reset(k);
    }
    void add(Eigen::Index i, T key, Id row) {
      auto& top = tops[static_cast<std::size_t>(i)];
      if (key <= top.threshold()) top.push(key, ids.id_of(row));
    }
    void end(Eigen::Index q0, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) {
        out.visited()(q0 + i) = visited;
        detail::write_row<Metric>(tops[static_cast<std::size_t>(i)], out, q0 + i);
      }
    }
  };

  // scan_tiles handler of search_radius: every point within the radius.
  struct RangeHandler {
    detail::RangeCollector<T, Metric>& found;
    const detail::IdMap& ids;
    Eigen::Index visited;  // points compared with each query
    Eigen::Index q0 = 0;

    void begin(Eigen::Index first, Eigen::Index) { q0 = first; }
    void add(Eigen::Index i, T key, Id row) { found.offer(q0 + i, key, ids.id_of(row)); }
    void end(Eigen::Index first, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) found.visited()(first + i) = visited;
    }
  };

  // Top-k over one row of products q.x for the allowed points of [p0, p0 + np).
  template <class Allowed>
  void select_block(const T* products, Id p0, Eigen::Index np, const Allowed& allowed,
                    detail::TopK<T>& top) const {
    T threshold = top.threshold();
    for (Eigen::Index j = 0; j < np; ++j) {
      if (!allowed(p0 + j)) continue;
      const T s = points_.key_from_product(products[j], p0 + j);
      if (s <= threshold) {
        top.push(s, ids_.id_of(p0 + j));
        threshold = top.threshold();
      }
    }
  }

  // Replaces the GEMM keys of the candidates by exact kernel keys and keeps the best k.
  void rescore(const simd::KernelSet<T>& kernels, const Eigen::Ref<const RowVector<T>>& query,
               std::size_t k, detail::TopK<T>& top, std::vector<T>& buffer) const {
    const T* qp = points_.prepare_query(query.data(), buffer);
    auto kept = top.take_sorted();
    top.reset(k);
    for (const auto& c : kept) top.push(points_.key(kernels, qp, ids_.row_of(c.id)), c.id);
  }

  detail::PointSet<T, Metric> points_;
  detail::IdMap ids_;  // the rows' ids and tombstones
};

}  // namespace pstable
