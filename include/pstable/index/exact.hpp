#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
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
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/point_set.hpp"
#include "pstable/detail/range_collector.hpp"
#include "pstable/detail/result_row.hpp"
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
///
/// Files: `save_index(index, path)` (include pstable/io/index_file.hpp) writes the rows to a
/// versioned, checksummed index file (docs/file-format.md) through a temporary renamed over
/// `path`; `load_index<ExactIndex<T, Metric>>(path)` reads it back as an owning index that returns
/// the same search results bit for bit; `load_index<...>(path, LoadMode::map)` as an index that
/// reads the rows in place from a read-only mapping of the file (only the norms are computed).
///
/// Thread safety: `add` needs exclusive access; `search` and `save` are const and may run from
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
    index.points_.borrow(data, rows, std::move(owner));
    return index;
  }

  Eigen::Index dim() const noexcept { return points_.dim(); }
  Eigen::Index size() const noexcept { return points_.size(); }
  bool owns_data() const noexcept { return points_.owns_data(); }

  /// The stored rows, in id order.
  Eigen::Map<const RowMatrix<T>> data() const noexcept { return points_.matrix(); }

  /// Bytes the index holds (rows it owns plus per-row norms).
  std::size_t memory_bytes() const noexcept { return points_.memory_bytes(); }

  /// Appends rows; their ids continue from size(). Validates everything before changing anything:
  /// on an exception the index is as it was.
  void add(const MatrixRef<T>& rows) {
    points_.validate_rows(rows, "data");
    points_.append(rows);
  }

  /// The k best points for each query row (see Neighbors). With k > size() every row holds all
  /// size() points, then padding (id -1, distance +inf or similarity -inf). Throws if k < 1, the
  /// index is empty, queries have the wrong width or hold NaN/inf (or zero rows under cosine).
  Neighbors<T> search(const MatrixRef<T>& queries, Eigen::Index k, int num_threads = 0) const {
    points_.validate_rows(queries, "queries");
    detail::check_k(k, size());
    detail::check_threads(num_threads);

    Neighbors<T> result(queries.rows(), k, Metric::name);
    if (queries.rows() < kBatchThreshold) {
      detail::parallel_for(queries.rows(), num_threads, 1, [&](auto begin, auto end, int) {
        std::vector<T> buffer(static_cast<std::size_t>(dim()));
        detail::TopK<T> top(static_cast<std::size_t>(std::min(k, size())));
        for (auto q = begin; q < end; ++q) scan_one(queries.row(q), top, buffer, result, q);
      });
    } else {
      // Slices of at most kQueryBlock queries, but small enough that every thread gets one.
      const Eigen::Index threads = detail::resolve_threads(num_threads);
      const Eigen::Index grain =
          std::clamp((queries.rows() + threads - 1) / threads, kBatchThreshold, kQueryBlock);
      detail::parallel_for(queries.rows(), num_threads, grain, [&](auto begin, auto end, int) {
        if constexpr (Metric::has_product_form) {
          search_blocks(queries, begin, end, result);
        } else {
          TopKHandler handler(*this, result);
          scan_tiles(queries, begin, end, handler);
        }
      });
    }
    return result;
  }

  /// Every point within `radius` of each query row (see RangeNeighbors): distance <= radius for
  /// Euclidean and Manhattan, similarity >= radius (a threshold) for Cosine and InnerProduct.
  /// Every point is compared through the SIMD kernels (as brute force does), so the result is
  /// exact. Throws if radius is NaN (or negative for a distance), queries have the wrong width or
  /// hold NaN/inf (or zero rows under cosine). An empty index returns no results.
  RangeNeighbors<T> search_radius(const MatrixRef<T>& queries, T radius,
                                  int num_threads = 0) const {
    points_.validate_rows(queries, "queries");
    detail::check_radius<Metric>(radius);
    detail::check_threads(num_threads);
    detail::RangeCollector<T, Metric> found(queries.rows(), radius);
    detail::parallel_for(queries.rows(), num_threads, 1, [&](auto begin, auto end, int) {
      RangeHandler handler{*this, found};
      scan_tiles(queries, begin, end, handler);
    });
    return found.finish(num_threads);
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

  void scan_one(const Eigen::Ref<const RowVector<T>>& query, detail::TopK<T>& top,
                std::vector<T>& buffer, Neighbors<T>& out, Eigen::Index q) const {
    const auto& kernels = simd::kernels<T>();
    const T* qp = points_.prepare_query(query.data(), buffer);
    top.reset(top.k());
    for (Id i = 0; i < size(); ++i) {
      const T s = points_.key(kernels, qp, i);
      if (s <= top.threshold()) top.push(s, i);
    }
    out.visited()(q) = size();
    detail::write_row<Metric>(top, out, q);
  }

  // GEMM path for queries [begin, end): blocks of queries x blocks of points.
  void search_blocks(const MatrixRef<T>& queries, Eigen::Index begin, Eigen::Index end,
                     Neighbors<T>& out) const {
    const auto& kernels = simd::kernels<T>();
    const auto k = static_cast<std::size_t>(std::min(size(), out.k()));
    const auto kept = static_cast<std::size_t>(std::min(size(), out.k() + kRescoreExtra));
    RowMatrix<T> qblock;
    RowMatrix<T> products;
    std::vector<detail::TopK<T>> tops(static_cast<std::size_t>(kQueryBlock), detail::TopK<T>(kept));
    std::vector<T> buffer(static_cast<std::size_t>(dim()));
    for (Eigen::Index q0 = begin; q0 < end; q0 += kQueryBlock) {
      const Eigen::Index nq = std::min(kQueryBlock, end - q0);
      qblock = queries.middleRows(q0, nq);
      if constexpr (Metric::normalizes) qblock.rowwise().normalize();
      for (Eigen::Index i = 0; i < nq; ++i) tops[static_cast<std::size_t>(i)].reset(kept);
      for (Eigen::Index p0 = 0; p0 < size(); p0 += kPointBlock) {
        const Eigen::Index np = std::min(kPointBlock, size() - p0);
        products.resize(nq, np);
        products.noalias() = qblock * points_.rows(p0, np).transpose();
        for (Eigen::Index i = 0; i < nq; ++i) {
          select_block(products.row(i).data(), p0, np, tops[static_cast<std::size_t>(i)]);
        }
      }
      for (Eigen::Index i = 0; i < nq; ++i) {
        rescore(kernels, queries.row(q0 + i), k, tops[static_cast<std::size_t>(i)], buffer);
        out.visited()(q0 + i) = size();
        detail::write_row<Metric>(tops[static_cast<std::size_t>(i)], out, q0 + i);
      }
    }
  }

  // Kernel path for queries [begin, end): each tile of kTileRows points (a few hundred KB) is
  // compared with every query of a block while it stays in cache. The handler collects
  // (FAISS's BlockResultHandler): begin(q0, nq) starts a block of queries, add(i, key, id) offers
  // point id to query q0 + i, end(q0, nq) finishes the block.
  template <class Handler>
  void scan_tiles(const MatrixRef<T>& queries, Eigen::Index begin, Eigen::Index end,
                  Handler& handler) const {
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
      for (Id p0 = 0; p0 < size(); p0 += tile) {
        const Id p1 = std::min<Id>(size(), p0 + tile);
        for (Eigen::Index i = 0; i < nq; ++i) {
          const T* qp = prepared[static_cast<std::size_t>(i)];
          for (Id p = p0; p < p1; ++p) handler.add(i, points_.key(kernels, qp, p), p);
        }
      }
      handler.end(q0, nq);
    }
  }

  // scan_tiles handler of search: the k best per query (at most size() of them; write_row pads).
  struct TopKHandler {
    const ExactIndex& index;
    Neighbors<T>& out;
    std::size_t k;
    std::vector<detail::TopK<T>> tops;

    TopKHandler(const ExactIndex& owner, Neighbors<T>& result)
        : index(owner),
          out(result),
          k(static_cast<std::size_t>(std::min(result.k(), owner.size()))),
          tops(static_cast<std::size_t>(kTileQueries), detail::TopK<T>(k)) {}
    void begin(Eigen::Index, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) tops[static_cast<std::size_t>(i)].reset(k);
    }
    void add(Eigen::Index i, T key, Id id) {
      auto& top = tops[static_cast<std::size_t>(i)];
      if (key <= top.threshold()) top.push(key, id);
    }
    void end(Eigen::Index q0, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) {
        out.visited()(q0 + i) = index.size();
        detail::write_row<Metric>(tops[static_cast<std::size_t>(i)], out, q0 + i);
      }
    }
  };

  // scan_tiles handler of search_radius: every point within the radius.
  struct RangeHandler {
    const ExactIndex& index;
    detail::RangeCollector<T, Metric>& found;
    Eigen::Index q0 = 0;

    void begin(Eigen::Index first, Eigen::Index) { q0 = first; }
    void add(Eigen::Index i, T key, Id id) { found.offer(q0 + i, key, id); }
    void end(Eigen::Index first, Eigen::Index nq) {
      for (Eigen::Index i = 0; i < nq; ++i) found.visited()(first + i) = index.size();
    }
  };

  // Top-k over one row of products q.x for points [p0, p0 + np).
  void select_block(const T* products, Id p0, Eigen::Index np, detail::TopK<T>& top) const {
    T threshold = top.threshold();
    for (Eigen::Index j = 0; j < np; ++j) {
      const T s = points_.key_from_product(products[j], p0 + j);
      if (s <= threshold) {
        top.push(s, p0 + j);
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
    for (const auto& c : kept) top.push(points_.key(kernels, qp, c.id), c.id);
  }

  detail::PointSet<T, Metric> points_;
};

}  // namespace pstable
