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
/// An interval that holds a candidate's true ranking key (Sq8Storage::bounds).
struct KeyBounds {
  double lo;
  double hi;
};
}  // namespace detail

/// Point storage for E2LSHIndex that scores candidates on 8-bit codes first (a quarter of the
/// bytes of float rows, an eighth of double rows) and re-ranks with the full-precision rows only
/// the candidates that can still be among the k best: `E2LSHIndex<float, Euclidean,
/// Sq8Storage<float, Euclidean>>`, or `storage="sq8"` in Python.
///
/// Codes: per-dimension affine 8-bit scalar quantisation (detail::ScalarQuantizer8; lossless for
/// 8-bit data such as image pixels), widened and re-coded when added rows fall outside the range.
///
/// Scoring: for metrics with a product form (Euclidean, cosine, inner product) the query is
/// scaled into an int16 vector and dotted with a row's codes by an exact integer kernel
/// (simd::code_kernels: AVX-512 VNNI, AVX-512 BW, AVX2, SSE4.1 or scalar, chosen at run time);
/// other metrics whose key is a distance (Manhattan) decode the row and use the float kernel.
/// Each estimate comes with an interval that provably holds the true key: from the row's coding
/// error ||x - decode(code(x))|| (kept per row), the query's rounding to int16, and a margin for
/// float rounding. The index re-ranks exactly every candidate whose lower end is at most the k-th
/// smallest upper end, so its results (ids and distances) are those of full-precision scoring;
/// the codes only decide how few rows are read in full.
///
/// Rows of 256 dimensions or more also get a sketch on their main directions
/// (detail::PcaSketch): 128 bytes per row that bound the key from two cache lines. The index
/// reads the sketches first and the codes only of candidates whose sketch interval can still reach
/// the k best (`has_sketch`, `coarse_bounds`). Memory: d bytes of codes (padded to a multiple of
/// 64), 12 (float) or 20 (double) bytes per row, and 128 bytes of sketch for d >= 256, beside the
/// rows themselves.
template <class T, class Metric>
class Sq8Storage {
  static_assert(Metric::has_product_form || Metric::key_is_distance,
                "Sq8Storage needs a metric with a product form or whose key is a distance");

 public:
  using Scalar = T;
  /// Candidates are scored by `bounds` first and re-ranked with `key`.
  static constexpr bool kEstimates = true;
  static constexpr const char* name = "sq8";
  static constexpr std::uint8_t file_code = 1;  ///< header byte of its index files
  /// Largest dimension (the integer dot product must fit int32 with >= 8-bit query precision).
  static constexpr Eigen::Index kMaxDim = Eigen::Index{1} << 20;

  explicit Sq8Storage(Eigen::Index dim)
      : rows_((check_dim(dim), dim)), quantizer_(dim), sketch_(dim), stride_(padded(dim)) {}

  Eigen::Index dim() const noexcept { return rows_.dim(); }
  Eigen::Index size() const noexcept { return rows_.size(); }
  bool owns_data() const noexcept { return rows_.owns_data(); }
  const T* row(Id i) const noexcept { return rows_.row(i); }
  Eigen::Map<const RowMatrix<T>> matrix() const noexcept { return rows_.matrix(); }
  Eigen::Map<const RowMatrix<T>> rows(Eigen::Index begin, Eigen::Index count) const noexcept {
    return rows_.rows(begin, count);
  }
  const std::vector<T>& row_values() const noexcept { return rows_.row_values(); }
  const detail::ScalarQuantizer8<T>& quantizer() const noexcept { return quantizer_; }
  /// Codes of row i (dim() bytes, then zero padding to a multiple of 64).
  const std::uint8_t* codes(Id i) const noexcept {
    return codes_.data() + static_cast<std::size_t>(i) * stride_;
  }
  /// Bytes between two rows' codes.
  std::size_t code_stride() const noexcept { return stride_; }

  std::size_t memory_bytes() const noexcept {
    return rows_.memory_bytes() + codes_.capacity() +
           (error_.capacity() + norm_.capacity()) * sizeof(T) +
           code_sum_.capacity() * sizeof(std::int32_t) +
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
    std::vector<T> error, norm;
    std::vector<std::int32_t> sums;
    const std::size_t first = recode ? 0 : old_n;
    if (!recode) {
      codes.reserve((old_n + m) * stride_);
      codes.assign(codes_.begin(), codes_.end());
      error = error_;
      norm = norm_;
      sums = code_sum_;
    }
    codes.resize((old_n + m) * stride_, 0);
    error.resize(old_n + m);
    norm.resize(old_n + m);
    sums.resize(old_n + m);
    std::vector<T> decoded(static_cast<std::size_t>(dim()));
    const auto code_rows = [&](std::size_t begin, std::size_t end, auto row_at) {
      for (std::size_t i = begin; i < end; ++i) {
        code_row(q, row_at(i), codes.data() + i * stride_, decoded, error[i], norm[i], sums[i]);
      }
    };
    code_rows(first, old_n, [&](std::size_t i) { return rows_.row(static_cast<Id>(i)); });
    code_rows(old_n, old_n + m,
              [&](std::size_t i) { return rows.row(static_cast<Eigen::Index>(i - old_n)).data(); });
    rows_.append(rows);  // strong guarantee; nothing below throws
    codes_.swap(codes);
    error_.swap(error);
    norm_.swap(norm);
    code_sum_.swap(sums);
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

  /// Prefetches what `bounds` reads (the codes).
  void prefetch(Id i) const noexcept {
    const char* p = reinterpret_cast<const char*>(codes(i));
    for (std::size_t b = 0; b < stride_; b += 64) __builtin_prefetch(p + b);
  }

  /// Whether rows have sketches (product-form metrics, dim >= 256, once rows were added): then
  /// `coarse_bounds` is the cheaper first filter before `bounds`.
  bool has_sketch() const noexcept { return Metric::has_product_form && sketch_.ready(); }

  /// Prefetches what `coarse_bounds` reads (the sketch).
  void prefetch_sketch(Id i) const noexcept { sketch_.prefetch(i); }

  /// Prefetches what `key` reads (the full row).
  void prefetch_row(Id i) const noexcept { rows_.prefetch(i); }

  /// A prepared query in the form `bounds` needs.
  struct QueryCode {
    const T* query = nullptr;
    std::vector<std::int16_t> scaled;  // product form: round(q_j * scale_j / alpha)
    std::vector<T> decoded;            // distance form: a decoded row
    double alpha = 0, base = 0, norm = 0;
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
      qc.scaled.assign(stride_, 0);
      if (qc.alpha > 0) {
        for (std::size_t j = 0; j < d; ++j) {
          const double t = std::nearbyint(double(prepared_query[j]) * double(scale[j]) / qc.alpha);
          qc.scaled[j] = static_cast<std::int16_t>(std::clamp(t, -tmax, tmax));
        }
      }
    } else {
      qc.decoded.resize(d);
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
      const double value = Metric::has_row_value ? double(row_values()[r]) : 0.0;
      const double a = Metric::key_from_product(p.lo - err, value);
      const double b = Metric::key_from_product(p.hi + err, value);
      return {std::min(a, b), std::max(a, b)};
    } else {
      return {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    }
  }

  /// An interval holding row i's true key for the query (see the class comment).
  detail::KeyBounds bounds(const simd::KernelSet<T>& kernels, QueryCode& qc, Id i) const noexcept {
    const auto r = static_cast<std::size_t>(i);
    const auto d = static_cast<std::size_t>(dim());
    const double eps = 4 * double(std::numeric_limits<T>::epsilon()) * std::sqrt(double(d) + 1);
    if constexpr (Metric::has_product_form) {
      const std::int32_t dot = simd::code_kernels().dot_u8_i16(codes(i), qc.scaled.data(), stride_);
      const double product = qc.base + qc.alpha * double(dot);
      const double reach = qc.norm + double(norm_[r]);
      const double err =
          qc.norm * double(error_[r]) + 0.5 * qc.alpha * double(code_sum_[r]) + eps * reach * reach;
      const double value = Metric::has_row_value ? double(row_values()[r]) : 0.0;
      const double a = Metric::key_from_product(product - err, value);
      const double b = Metric::key_from_product(product + err, value);
      return {std::min(a, b), std::max(a, b)};
    } else {
      quantizer_.decode(codes(i), qc.decoded.data());
      const double est = double(Metric::key(kernels, qc.decoded.data(), T(0), qc.query, d));
      const double err = double(error_[r]) + eps * (std::abs(est) + double(error_[r]));
      return {est - err, est + err};
    }
  }

 private:
  using Codes = std::vector<std::uint8_t, detail::HugePageAllocator<std::uint8_t>>;

  static void check_dim(Eigen::Index dim) {
    detail::check_dimension(dim);
    if (dim > kMaxDim) {
      throw InvalidArgument(detail::concat("Sq8Storage holds at most ", kMaxDim,
                                           " dimensions, got ", dim, "; use the float storage"));
    }
  }
  static std::size_t padded(Eigen::Index dim) {
    return (static_cast<std::size_t>(dim) + 63) / 64 * 64;
  }
  // Largest |scaled query| so that d * 255 * max fits int32 (and int16).
  static double max_scaled(std::size_t d) {
    return std::floor(
        std::min(32767.0, 2147483647.0 / (255.0 * double(std::max<std::size_t>(d, 1)))));
  }

  // Codes one row and measures it.
  void code_row(const detail::ScalarQuantizer8<T>& q, const T* x, std::uint8_t* codes,
                std::vector<T>& decoded, T& error, T& norm, std::int32_t& sum) const {
    q.encode(x, codes);
    measure_row(q, x, codes, decoded, error, norm, sum);
  }

  // The row's coding error (the metric's own distance for distance keys, else Euclidean), norm
  // and code sum.
  void measure_row(const detail::ScalarQuantizer8<T>& q, const T* x, const std::uint8_t* codes,
                   std::vector<T>& decoded, T& error, T& norm, std::int32_t& sum) const {
    const auto d = static_cast<std::size_t>(dim());
    q.decode(codes, decoded.data());
    double e = 0, n2 = 0;
    std::int64_t s = 0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = double(x[j]) - double(decoded[j]);
      if constexpr (Metric::has_product_form) {
        e += diff * diff;
      } else {
        e += std::abs(diff);
      }
      n2 += double(x[j]) * double(x[j]);
      s += codes[j];
    }
    const double err = Metric::has_product_form ? std::sqrt(e) : e;
    // Rounded up so that the stored error never understates the computed one.
    error = std::nextafter(static_cast<T>(err), std::numeric_limits<T>::infinity());
    norm = static_cast<T>(std::sqrt(n2));
    sum = static_cast<std::int32_t>(s);
  }

  detail::PointSet<T, Metric> rows_;
  detail::ScalarQuantizer8<T> quantizer_;
  detail::PcaSketch<T> sketch_;
  std::size_t stride_;
  Codes codes_;
  std::vector<T> error_, norm_;
  std::vector<std::int32_t> code_sum_;
};

}  // namespace pstable
