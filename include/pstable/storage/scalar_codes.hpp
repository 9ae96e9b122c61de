#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/huge_page_allocator.hpp"
#include "pstable/detail/point_set.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/code_kernels.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/storage/pca_sketch.hpp"
#include "pstable/storage/scalar_quantizer.hpp"

namespace pstable {
namespace detail {
/// An interval that holds a candidate's true ranking key (ScalarCodeStorage::bounds).
struct KeyBounds {
  double lo;
  double hi;
};
}  // namespace detail

/// Point storage for E2LSHIndex that scores candidates on `Bits`-bit codes first and re-ranks
/// with the full-precision rows only the candidates that can still be among the k best. Two
/// widths, each its own storage:
/// - Sq8Storage (`storage="sq8"` in Python): 8 bits per value, a quarter of the bytes of float
///   rows (an eighth of double rows); lossless for 8-bit data such as image pixels.
/// - Sq4Storage (`storage="sq4"`): 4 bits per value, half of sq8's bytes, with wider intervals.
/// E.g. `E2LSHIndex<float, Euclidean, Sq4Storage<float, Euclidean>>`.
///
/// Codes: per-dimension affine scalar quantisation (detail::ScalarQuantizer), widened and
/// re-coded when added rows fall outside the range. 4-bit codes are packed two per byte
/// (simd::CodeKernels describes the layout).
///
/// Scoring: for metrics with a product form (Euclidean, cosine, inner product) the query is
/// scaled into an int16 vector and dotted with a row's codes by an exact integer kernel
/// (simd::code_kernels: AVX-512 VNNI, AVX-512 BW, AVX2, SSE4.1 or scalar, chosen at run time);
/// other metrics whose key is a distance (Manhattan) decode the row and use the float kernel.
/// Each estimate comes with an interval that provably holds the true key: from the row's coding
/// error e = ||x - decode(code(x))|| (kept per row), the query's rounding to int16, and a margin
/// for float rounding. The product q.x is bounded by Cauchy-Schwarz (|q.(x - x')| <= ||q|| e);
/// for Euclidean keys the interval is also cut to the triangle inequality's
/// (| ||q - x|| - ||q - x'|| | <= e), which is much tighter when ||q - x|| is small against ||q||,
/// as it is for near neighbours. The index re-ranks exactly every candidate whose lower end is at
/// most the k-th smallest upper end, so its results (ids and distances) are those of
/// full-precision scoring; the codes only decide how few rows are read in full.
///
/// Rows of 256 dimensions or more also get a sketch on their main directions
/// (detail::PcaSketch): 128 bytes per row that bound the key from two cache lines. The index
/// reads the sketches first and the codes only of candidates whose sketch interval can still reach
/// the k best (`has_sketch`, `coarse_bounds`). Memory per row, beside the rows themselves: the
/// codes (d bytes for 8 bits, d / 2 for 4, padded to a multiple of 64), 32 (float) or 40 (double)
/// bytes of what the intervals need (RowInfo, one cache line per candidate), and 128 bytes of
/// sketch for d >= 256.
template <class T, class Metric, unsigned Bits>
class ScalarCodeStorage {
  static_assert(Metric::has_product_form || Metric::key_is_distance,
                "code storages need a metric with a product form or whose key is a distance");
  static_assert(Bits == 4 || Bits == 8, "code storages hold 4 or 8 bits per value");

 public:
  using Scalar = T;
  /// Candidates are scored by `bounds` first and re-ranked with `key`.
  static constexpr bool kEstimates = true;
  static constexpr const char* name = Bits == 8 ? "sq8" : "sq4";
  static constexpr std::uint8_t file_code = Bits == 8 ? 1 : 2;  ///< header byte of index files
  /// Largest dimension (the integer dot product must fit int32 with >= 8-bit query precision).
  static constexpr Eigen::Index kMaxDim = Eigen::Index{1} << 20;

  explicit ScalarCodeStorage(Eigen::Index dim)
      : rows_((check_dim(dim), dim)),
        quantizer_(dim),
        sketch_(dim),
        stride_(padded(dim)),
        values_(Bits == 8 ? stride_ : 2 * stride_) {}

  Eigen::Index dim() const noexcept { return rows_.dim(); }
  Eigen::Index size() const noexcept { return rows_.size(); }
  bool owns_data() const noexcept { return rows_.owns_data(); }
  const T* row(Id i) const noexcept { return rows_.row(i); }
  Eigen::Map<const RowMatrix<T>> matrix() const noexcept { return rows_.matrix(); }
  Eigen::Map<const RowMatrix<T>> rows(Eigen::Index begin, Eigen::Index count) const noexcept {
    return rows_.rows(begin, count);
  }
  const std::vector<T>& row_values() const noexcept { return rows_.row_values(); }
  const detail::ScalarQuantizer<T, Bits>& quantizer() const noexcept { return quantizer_; }
  /// Codes of row i (for 8 bits dim() bytes, for 4 bits packed as simd::CodeKernels says; then
  /// zero padding to a multiple of 64 bytes).
  const std::uint8_t* codes(Id i) const noexcept {
    return codes_.data() + static_cast<std::size_t>(i) * stride_;
  }
  /// Bytes between two rows' codes.
  std::size_t code_stride() const noexcept { return stride_; }

  /// Row i's codes one byte per value, into out[0, dim()).
  void unpack(Id i, std::uint8_t* out) const noexcept {
    const std::uint8_t* c = codes(i);
    const auto d = static_cast<std::size_t>(dim());
    for (std::size_t j = 0; j < d; ++j) {
      if constexpr (Bits == 8) {
        out[j] = c[j];
      } else {
        const std::uint8_t byte = c[j / 128 * 64 + j % 64];
        out[j] = j % 128 < 64 ? byte & 15 : byte >> 4;
      }
    }
  }

  std::size_t memory_bytes() const noexcept {
    return rows_.memory_bytes() + codes_.capacity() + info_.capacity() * sizeof(RowInfo) +
           quantizer_.lo().size() * (4 * sizeof(T) + 1) + sketch_.memory_bytes();
  }

  void validate_rows(const MatrixRef<T>& rows, const char* what) const {
    rows_.validate_rows(rows, what);
  }

  /// Appends validated rows, coding them (and re-coding every row when they widen the range).
  /// On an exception (allocation) nothing changed.
  void append(const MatrixRef<T>& rows) {
    auto q = quantizer_.widened(rows);
    auto sketch = sketch_;
    if constexpr (Metric::has_product_form) sketch.append(rows);
    const bool recode = !q.same_codes(quantizer_);
    const auto old_n = static_cast<std::size_t>(size());
    const auto m = static_cast<std::size_t>(rows.rows());
    Codes codes;
    std::vector<RowInfo> info;
    const std::size_t first = recode ? 0 : old_n;
    if (!recode) {
      codes.reserve((old_n + m) * stride_);
      codes.assign(codes_.begin(), codes_.end());
      info = info_;
    }
    codes.resize((old_n + m) * stride_, 0);
    info.resize(old_n + m);
    std::vector<std::uint8_t> unpacked(static_cast<std::size_t>(dim()));
    const auto code_rows = [&](std::size_t begin, std::size_t end, auto row_at) {
      for (std::size_t i = begin; i < end; ++i) {
        const T* x = row_at(i);
        q.encode(x, unpacked.data());
        pack(unpacked.data(), codes.data() + i * stride_);
        info[i] = measure_row(q, x, unpacked.data());
      }
    };
    code_rows(first, old_n, [&](std::size_t i) { return rows_.row(static_cast<Id>(i)); });
    code_rows(old_n, old_n + m,
              [&](std::size_t i) { return rows.row(static_cast<Eigen::Index>(i - old_n)).data(); });
    rows_.append(rows);  // strong guarantee; nothing below throws
    codes_.swap(codes);
    info_.swap(info);
    // The row values are known only now (rows_ computes them); copied beside the rest.
    if constexpr (Metric::has_row_value) {
      for (std::size_t i = first; i < old_n + m; ++i) info_[i].value = rows_.row_values()[i];
    }
    quantizer_ = std::move(q);
    sketch_ = std::move(sketch);
  }

  const T* prepare_query(const T* q, std::vector<T>& buffer) const {
    return rows_.prepare_query(q, buffer);
  }

  /// Exact ranking key of row i (the full-precision rows).
  T key(const simd::KernelSet<T>& kernels, const T* prepared_query, Id i) const noexcept {
    return rows_.key(kernels, prepared_query, i);
  }

  T key_from_product(T product, Id i) const noexcept { return rows_.key_from_product(product, i); }

  /// Prefetches what `bounds` reads (the codes and the row's RowInfo).
  void prefetch(Id i) const noexcept {
    const char* p = reinterpret_cast<const char*>(codes(i));
    for (std::size_t b = 0; b < stride_; b += 64) __builtin_prefetch(p + b);
    prefetch_info(i);
  }

  /// Whether rows have sketches (product-form metrics, dim >= 256, once rows were added): then
  /// `coarse_bounds` is the cheaper first filter before `bounds`.
  bool has_sketch() const noexcept { return Metric::has_product_form && sketch_.ready(); }

  /// Prefetches what `coarse_bounds` reads (the sketch).
  void prefetch_sketch(Id i) const noexcept {
    sketch_.prefetch(i);
    prefetch_info(i);
  }

  /// Prefetches what `key` reads (the full row).
  void prefetch_row(Id i) const noexcept { rows_.prefetch(i); }

  /// A prepared query in the form `bounds` needs.
  struct QueryCode {
    const T* query = nullptr;
    std::vector<std::int16_t> scaled;    // product form: round(q_j * scale_j / alpha)
    std::vector<T> decoded;              // distance form: a decoded row
    std::vector<std::uint8_t> unpacked;  // distance form, 4 bits: a row's codes
    double alpha = 0, base = 0, norm = 0, norm_sq = 0;
    typename detail::PcaSketch<T>::Query sketch;  // from encode_sketch
  };

  /// Prepares `prepared_query` (from prepare_query, kept alive by the caller) for `bounds`.
  void encode_query(const T* prepared_query, QueryCode& qc) const {
    const auto d = static_cast<std::size_t>(dim());
    qc.query = prepared_query;
    if constexpr (Metric::has_product_form) {
      const auto& off = quantizer_.offsets();
      const auto& scale = quantizer_.scales();
      double base = 0, norm_sq = 0, vmax = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double qj = prepared_query[j];
        base += qj * double(off[j]);
        norm_sq += qj * qj;
        vmax = std::max(vmax, std::abs(qj * double(scale[j])));
      }
      const double tmax = max_scaled(d);
      qc.alpha = vmax > 0 ? vmax / tmax : 0;
      qc.base = base;
      qc.norm = std::sqrt(norm_sq);
      qc.norm_sq = norm_sq;
      qc.scaled.assign(values_, 0);
      if (qc.alpha > 0) {
        for (std::size_t j = 0; j < d; ++j) {
          const double t = std::nearbyint(double(prepared_query[j]) * double(scale[j]) / qc.alpha);
          qc.scaled[j] = static_cast<std::int16_t>(std::clamp(t, -tmax, tmax));
        }
      }
    } else {
      qc.decoded.resize(d);
      if constexpr (Bits != 8) qc.unpacked.resize(d);
    }
  }

  /// Prepares qc (from encode_query) for `coarse_bounds` too (needs has_sketch()).
  void encode_sketch(QueryCode& qc) const { sketch_.encode_query(qc.query, qc.sketch); }

  /// A wider interval than `bounds`, also holding row i's true key, from the sketch alone
  /// (needs encode_sketch).
  detail::KeyBounds coarse_bounds(const QueryCode& qc, Id i) const noexcept {
    if constexpr (Metric::has_product_form) {
      const auto r = static_cast<std::size_t>(i);
      const double eps =
          4 * double(std::numeric_limits<T>::epsilon()) * std::sqrt(double(dim()) + 1);
      const auto p = sketch_.product(qc.sketch, i);
      const double reach = qc.norm + sketch_.centred_norm(i) + qc.sketch.mean_norm;
      const double err = eps * reach * reach;
      const double value = double(info_[r].value);
      const double a = Metric::key_from_product(p.lo - err, value);
      const double b = Metric::key_from_product(p.hi + err, value);
      return {std::min(a, b), std::max(a, b)};
    } else {
      return {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    }
  }

  /// `key` (an exact key, from `key`) on the scale of the intervals `bounds` returns, rounded
  /// up: a candidate whose interval starts above it has a larger exact key. (Euclidean intervals
  /// leave out the query's squared norm; the other metrics' are on the key's own scale.)
  double key_cut(const QueryCode& qc, T key) const noexcept {
    const double shift = Metric::key_is_squared_l2 ? qc.norm_sq : 0.0;
    const double cut = double(key) - shift;
    return cut + 4 * std::numeric_limits<double>::epsilon() * (std::abs(double(key)) + shift);
  }

  /// An interval holding row i's true key for the query (see the class comment).
  detail::KeyBounds bounds(const simd::KernelSet<T>& kernels, QueryCode& qc, Id i) const noexcept {
    const RowInfo& row = info_[static_cast<std::size_t>(i)];
    const auto d = static_cast<std::size_t>(dim());
    const double eps = 4 * double(std::numeric_limits<T>::epsilon()) * std::sqrt(double(d) + 1);
    if constexpr (Metric::has_product_form) {
      const auto& kernels8 = simd::code_kernels();
      const std::int32_t dot = Bits == 8 ? kernels8.dot_u8_i16(codes(i), qc.scaled.data(), stride_)
                                         : kernels8.dot_u4_i16(codes(i), qc.scaled.data(), stride_);
      // q.x' for the decoded row x', to within `rounding` (the query's rounding to int16).
      const double product = qc.base + qc.alpha * double(dot);
      const double rounding = 0.5 * qc.alpha * double(row.code_sum);
      const double reach = qc.norm + double(row.norm);
      const double margin = eps * reach * reach;
      const double err = qc.norm * double(row.error) + rounding + margin;
      const double value = double(row.value);
      const double a = Metric::key_from_product(product - err, value);
      const double b = Metric::key_from_product(product + err, value);
      detail::KeyBounds out{std::min(a, b), std::max(a, b)};
      // Where the coding error's term is below the rounding terms (8-bit data under 8 bits),
      // Cauchy-Schwarz's interval is as tight, and the square roots would cost more than the rest.
      const double e = double(row.error);
      if (Metric::key_is_squared_l2 && qc.norm * e > rounding + margin) {
        // ||q - x'||^2, then ||q - x|| within e of ||q - x'||; back to the key's scale, which
        // leaves out ||q||^2.
        const double approx = qc.norm_sq + row.decoded_sq - 2 * product;
        // (Not `near`/`far`: <windows.h> defines both as macros.)
        const double dist_lo = std::max(0.0, std::sqrt(std::max(0.0, approx - 2 * rounding)) - e);
        const double dist_hi = std::sqrt(std::max(0.0, approx + 2 * rounding)) + e;
        out.lo = std::max(out.lo, dist_lo * dist_lo - qc.norm_sq - 2 * margin);
        out.hi = std::min(out.hi, dist_hi * dist_hi - qc.norm_sq + 2 * margin);
      }
      return out;
    } else {
      const std::uint8_t* c = codes(i);
      if constexpr (Bits != 8) {
        unpack(i, qc.unpacked.data());
        c = qc.unpacked.data();
      }
      quantizer_.decode(c, qc.decoded.data());
      const double est = double(Metric::key(kernels, qc.decoded.data(), T(0), qc.query, d));
      const double err = double(row.error) + eps * (std::abs(est) + double(row.error));
      return {est - err, est + err};
    }
  }

 private:
  using Codes = std::vector<std::uint8_t, detail::HugePageAllocator<std::uint8_t>>;

  // What `bounds` (and `coarse_bounds`) read of a row beside its codes, together so that one
  // prefetch brings all of it: one random cache line per candidate instead of one per array.
  // 32 bytes for float rows (aligned, so an entry never straddles two lines), 40 for double.
  struct alignas(sizeof(T) == 4 ? 32 : 8) RowInfo {
    double decoded_sq = 0;  // ||decode(code(x))||^2, Euclidean keys only (else 0)
    T value = 0;            // Metric::row_value (0 when the metric keeps none)
    T error = 0;            // coding error, rounded up
    T norm = 0;             // ||x||
    std::int32_t code_sum = 0;
  };

  static void check_dim(Eigen::Index dim) {
    detail::check_dimension(dim);
    if (dim > kMaxDim) {
      throw InvalidArgument(detail::concat(name, " storage holds at most ", kMaxDim,
                                           " dimensions, got ", dim, "; use the float storage"));
    }
  }
  // Bytes of one row's codes: d (8 bits) or d / 2 (4 bits), padded to a multiple of 64.
  static std::size_t padded(Eigen::Index dim) {
    const auto d = static_cast<std::size_t>(dim);
    return Bits == 8 ? (d + 63) / 64 * 64 : (d + 127) / 128 * 64;
  }
  // Largest |scaled query| so that d * max code * max fits int32 (and int16).
  static double max_scaled(std::size_t d) {
    constexpr double kMaxCode = detail::ScalarQuantizer<T, Bits>::kMaxCode;
    return std::floor(
        std::min(32767.0, 2147483647.0 / (kMaxCode * double(std::max<std::size_t>(d, 1)))));
  }

  // Packs one row's codes (one byte each) into the layout `codes` returns; the padding stays 0.
  void pack(const std::uint8_t* unpacked, std::uint8_t* out) const noexcept {
    const auto d = static_cast<std::size_t>(dim());
    if constexpr (Bits == 8) {
      std::copy(unpacked, unpacked + d, out);
    } else {
      for (std::size_t j = 0; j < d; ++j) {
        const auto shift = j % 128 < 64 ? 0 : 4;
        out[j / 128 * 64 + j % 64] |= static_cast<std::uint8_t>(unpacked[j] << shift);
      }
    }
  }

  // The row's coding error (the metric's own distance for distance keys, else Euclidean), norm,
  // code sum and, for Euclidean keys, the decoded row's squared norm (the row value is filled in
  // by append). Product forms decode in double, as `bounds` does; distance forms decode in T, as
  // `bounds` does.
  RowInfo measure_row(const detail::ScalarQuantizer<T, Bits>& q, const T* x,
                      const std::uint8_t* codes) const {
    const auto d = static_cast<std::size_t>(dim());
    const auto& off = q.offsets();
    const auto& scale = q.scales();
    double e = 0, n2 = 0, x2 = 0;
    std::int64_t s = 0;
    for (std::size_t j = 0; j < d; ++j) {
      if constexpr (Metric::has_product_form) {
        const double decoded = double(off[j]) + double(scale[j]) * double(codes[j]);
        const double diff = double(x[j]) - decoded;
        e += diff * diff;
        x2 += decoded * decoded;
      } else {
        const T decoded = off[j] + scale[j] * T(codes[j]);
        e += std::abs(double(x[j]) - double(decoded));
      }
      n2 += double(x[j]) * double(x[j]);
      s += codes[j];
    }
    const double err = Metric::has_product_form ? std::sqrt(e) : e;
    RowInfo info;
    info.decoded_sq = Metric::key_is_squared_l2 ? x2 : 0.0;
    // Rounded up so that the stored error never understates the computed one.
    info.error = std::nextafter(static_cast<T>(err), std::numeric_limits<T>::infinity());
    info.norm = static_cast<T>(std::sqrt(n2));
    info.code_sum = static_cast<std::int32_t>(s);
    return info;
  }

  void prefetch_info(Id i) const noexcept {
    const auto* p = reinterpret_cast<const char*>(info_.data() + i);
    __builtin_prefetch(p);
    if constexpr (sizeof(RowInfo) % 64 != 0 && 64 % sizeof(RowInfo) != 0) {
      __builtin_prefetch(p + sizeof(RowInfo) - 1);  // an entry may straddle two lines
    }
  }

  detail::PointSet<T, Metric> rows_;
  detail::ScalarQuantizer<T, Bits> quantizer_;
  detail::PcaSketch<T> sketch_;
  std::size_t stride_;  // bytes of codes per row
  std::size_t values_;  // entries of a scaled query (stride_ or 2 stride_)
  Codes codes_;
  std::vector<RowInfo> info_;  // one per row
};

/// 8-bit codes: ScalarCodeStorage<T, Metric, 8>, `storage="sq8"`.
template <class T, class Metric>
using Sq8Storage = ScalarCodeStorage<T, Metric, 8>;

/// 4-bit codes: ScalarCodeStorage<T, Metric, 4>, `storage="sq4"`.
template <class T, class Metric>
using Sq4Storage = ScalarCodeStorage<T, Metric, 4>;

}  // namespace pstable
