#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/detail/huge_page_allocator.hpp"

namespace pstable::detail {

/// A sketch of each row on its top principal directions, which bounds the row's inner product
/// with a query from 128 bytes (two cache lines) per row: a candidate filter read before the
/// codes.
///
/// With the mean m, an orthonormal basis V (d x kDims) of the main directions, a = V^T (q - m),
/// b = V^T (x - m), and residuals r_q, r_x orthogonal to V:
///   q.x = q.m + x.m - m.m + a.b + r_q.r_x,  and  |r_q.r_x| <= ||r_q|| ||r_x||,
/// so q.x lies in [c - ||r_q|| ||r_x||, c + ||r_q|| ||r_x||] with c from the sketch alone. Each
/// row keeps b (float), ||r_x|| (rounded up), x.m and ||x - m|| (for the rounding margin).
/// The bound holds for any orthonormal V: the basis is fitted once, on a sample of the first
/// rows added (subspace iteration; fixed seed), and only decides how tight the bounds are.
template <class T>
class PcaSketch {
 public:
  /// Floats per row: kDims sketch values, then ||r_x||, x.m and ||x - m||. Two cache lines.
  static constexpr Eigen::Index kDims = 29;
  static constexpr int kStride = 32;
  /// Sketches are kept for dim >= kMinDim only: below it the codes themselves are few lines.
  static constexpr Eigen::Index kMinDim = 256;
  /// Rows of the sample the basis is fitted on.
  static constexpr Eigen::Index kSampleRows = 2048;

  explicit PcaSketch(Eigen::Index dim) : dim_(dim) {}

  /// Whether rows of this dimension get sketches.
  bool enabled() const noexcept { return dim_ >= kMinDim; }
  /// Whether the basis is fitted (rows were added), so that queries can be encoded.
  bool ready() const noexcept { return basis_.size() > 0; }
  Eigen::Index size() const noexcept { return static_cast<Eigen::Index>(values_.size() / kStride); }

  std::size_t memory_bytes() const noexcept {
    return values_.capacity() * sizeof(float) +
           static_cast<std::size_t>(basis_.size() + mean_.size()) * sizeof(double);
  }

  /// Sketches `rows` (validated: finite) and appends them; fits the basis first when there is
  /// none yet. No-op when not enabled.
  void append(const MatrixRef<T>& rows) {
    if (!enabled() || rows.rows() == 0) return;
    if (basis_.size() == 0) fit(rows);
    const Eigen::Index n = rows.rows();
    const auto old = values_.size();
    values_.resize(old + static_cast<std::size_t>(n) * kStride, 0.0f);
    constexpr Eigen::Index kBlock = 1024;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> centred, b;
    for (Eigen::Index i0 = 0; i0 < n; i0 += kBlock) {
      const Eigen::Index nb = std::min(kBlock, n - i0);
      centred = rows.middleRows(i0, nb).template cast<double>();
      centred.rowwise() -= mean_;
      b.noalias() = centred * basis_;
      for (Eigen::Index i = 0; i < nb; ++i) {
        float* out = values_.data() + old + static_cast<std::size_t>(i0 + i) * kStride;
        const double norm_sq = centred.row(i).squaredNorm();
        for (Eigen::Index j = 0; j < kDims; ++j) out[j] = static_cast<float>(b(i, j));
        // ||r||^2 = ||x - m||^2 - ||b||^2 (V orthonormal), with room for its rounding.
        const double resid_sq = std::max(0.0, norm_sq - b.row(i).squaredNorm()) + 1e-12 * norm_sq;
        out[kDims] = round_up(std::sqrt(resid_sq));
        out[kDims + 1] = static_cast<float>(centred.row(i).dot(mean_) + mean_sq_);
        out[kDims + 2] = round_up(std::sqrt(norm_sq));
      }
    }
  }

  /// A query in the form `product` needs.
  struct Query {
    std::vector<float> a;
    double resid = 0;      // ||r_q||
    double constant = 0;   // q.m - m.m
    double reach = 0;      // ||q - m||
    double mean_norm = 0;  // ||m||, kept per query so that no row pays its square root
  };

  /// Needs ready().
  void encode_query(const T* q, Query& out) const {
    out.a.assign(kStride, 0.0f);
    Eigen::RowVectorXd c =
        Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(q, dim_).template cast<double>();
    out.constant = c.dot(mean_) - mean_sq_;
    c -= mean_;
    const Eigen::RowVectorXd a = c * basis_;
    const double norm_sq = c.squaredNorm();
    for (Eigen::Index j = 0; j < kDims; ++j) out.a[static_cast<std::size_t>(j)] = float(a(j));
    out.resid = std::sqrt(std::max(0.0, norm_sq - a.squaredNorm()) + 1e-12 * norm_sq);
    out.reach = std::sqrt(norm_sq);
    out.mean_norm = std::sqrt(mean_sq_);
  }

  /// An interval holding q.x for row i (`q` from encode_query), widened for the rounding of the
  /// stored values and of this computation; the caller adds its exact kernel's rounding.
  struct Interval {
    double lo, hi;
  };
  Interval product(const Query& q, Id i) const noexcept {
    const float* s = values_.data() + static_cast<std::size_t>(i) * kStride;
    // q.a is zero past kDims, so the whole line pair can be dotted (the compiler vectorises it).
    using Line = Eigen::Matrix<float, kStride, 1>;
    const float dot = Eigen::Map<const Line>(q.a.data()).dot(Eigen::Map<const Line>(s));
    const double centre = q.constant + double(s[kDims + 1]) + double(dot);
    const double half = q.resid * double(s[kDims]);
    // Rounding: the float sketch values and dot (at most kStride terms), x.m stored as float.
    const double x_reach = double(s[kDims + 2]);
    const double eps = double(std::numeric_limits<float>::epsilon()) * (kStride + 4);
    const double err = eps * (q.reach * x_reach + (x_reach + q.mean_norm) * q.mean_norm +
                              std::abs(q.constant) + half);
    return {centre - half - err, centre + half + err};
  }

  /// ||x - m|| of row i (rounded up): with ||m|| (Query::mean_norm), a bound on ||x|| for
  /// rounding margins.
  double centred_norm(Id i) const noexcept {
    return double(values_[static_cast<std::size_t>(i) * kStride + kDims + 2]);
  }

  void prefetch(Id i) const noexcept {
    const float* s = values_.data() + static_cast<std::size_t>(i) * kStride;
    __builtin_prefetch(s);
    __builtin_prefetch(s + 16);
  }

 private:
  static float round_up(double v) {
    return std::nextafter(static_cast<float>(v), std::numeric_limits<float>::infinity());
  }

  // Mean and top kDims directions of a sample of `rows` (every rows/kSampleRows-th row):
  // subspace iteration from a fixed pseudo-random start, then Rayleigh-Ritz.
  void fit(const MatrixRef<T>& rows) {
    const Eigen::Index n = rows.rows();
    const Eigen::Index m = std::min(n, kSampleRows);
    Eigen::MatrixXd sample(m, dim_);
    for (Eigen::Index i = 0; i < m; ++i)
      sample.row(i) = rows.row(i * n / m).template cast<double>();
    mean_ = sample.colwise().mean();
    sample.rowwise() -= mean_;
    mean_sq_ = mean_.squaredNorm();
    const Eigen::Index p = std::min<Eigen::Index>(dim_, kDims + 8);
    Eigen::MatrixXd q(dim_, p);
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    for (Eigen::Index c = 0; c < q.size(); ++c) {
      state += 0x9E3779B97F4A7C15ull;  // splitmix64
      std::uint64_t z = state;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      q.data()[c] = double(z >> 11) * 0x1.0p-53 - 0.5;
    }
    Eigen::MatrixXd y;
    for (int iter = 0; iter < 3; ++iter) {
      y.noalias() = sample.transpose() * (sample * q);
      q = Eigen::HouseholderQR<Eigen::MatrixXd>(y).householderQ() *
          Eigen::MatrixXd::Identity(dim_, p);
    }
    const Eigen::MatrixXd b = sample * q;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(b.transpose() * b);
    // Eigenvalues ascend: the last kDims vectors, largest first.
    basis_ = q * eig.eigenvectors().rightCols(kDims).rowwise().reverse();
  }

  Eigen::Index dim_;
  Eigen::RowVectorXd mean_;
  Eigen::MatrixXd basis_;  // dim x kDims, orthonormal columns
  double mean_sq_ = 0;
  std::vector<float, HugePageAllocator<float>> values_;
};

}  // namespace pstable::detail
