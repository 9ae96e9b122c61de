#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// Per-dimension affine quantiser to `Bits` bits (4 or 8; M = 2^Bits - 1): coordinate j is coded
/// as code = round((x - offset_j) / scale_j) in [0, M] and decoded as offset_j + scale_j * code.
///
/// It covers the observed range [lo_j, hi_j] of the rows it has seen: offset_j = lo_j and
/// scale_j = (hi_j - lo_j) / M, except that a column whose values are all integers spanning at
/// most M gets scale 1, so with 8 bits, 8-bit data (image pixels, counts) is coded LOSSLESSLY. The
/// quantiser is a pure function of the range and integrality it has seen, so it is reproducible
/// from the rows; `widened` grows it to cover new rows. Codes are one byte each here; packing them
/// is the storage's business.
template <class T, unsigned Bits>
class ScalarQuantizer {
  static_assert(Bits == 4 || Bits == 8, "ScalarQuantizer codes 4 or 8 bits per value");

 public:
  /// The largest code.
  static constexpr unsigned kMaxCode = (1U << Bits) - 1;

  explicit ScalarQuantizer(Eigen::Index dim = 0)
      : lo_(static_cast<std::size_t>(dim), T(0)),
        hi_(static_cast<std::size_t>(dim), T(0)),
        integral_(static_cast<std::size_t>(dim), 1),
        offset_(static_cast<std::size_t>(dim), T(0)),
        scale_(static_cast<std::size_t>(dim), T(1)) {}

  /// From a saved state (lo, hi, integral per column); throws FormatError when inconsistent.
  static ScalarQuantizer from_state(std::vector<T> lo, std::vector<T> hi,
                                    std::vector<std::uint8_t> integral, bool trained) {
    ScalarQuantizer q;
    if (lo.size() != hi.size() || lo.size() != integral.size()) {
      throw FormatError("quantiser state has columns of different lengths");
    }
    for (std::size_t j = 0; j < lo.size(); ++j) {
      if (!std::isfinite(lo[j]) || !std::isfinite(hi[j]) || !(lo[j] <= hi[j]) || integral[j] > 1 ||
          !std::isfinite(hi[j] - lo[j])) {
        throw FormatError(concat("quantiser column ", j, " has range [", lo[j], ", ", hi[j],
                                 "] and integral flag ", int{integral[j]}));
      }
    }
    q.lo_ = std::move(lo);
    q.hi_ = std::move(hi);
    q.integral_ = std::move(integral);
    q.trained_ = trained;
    q.offset_.resize(q.lo_.size());
    q.scale_.resize(q.lo_.size());
    q.derive();
    return q;
  }

  Eigen::Index dim() const noexcept { return static_cast<Eigen::Index>(lo_.size()); }
  bool trained() const noexcept { return trained_; }
  const std::vector<T>& lo() const noexcept { return lo_; }
  const std::vector<T>& hi() const noexcept { return hi_; }
  const std::vector<std::uint8_t>& integral() const noexcept { return integral_; }
  const std::vector<T>& offsets() const noexcept { return offset_; }
  const std::vector<T>& scales() const noexcept { return scale_; }

  /// The quantiser covering what this one covers and `rows` (finite, dim() columns).
  ScalarQuantizer widened(const MatrixRef<T>& rows) const {
    ScalarQuantizer q = *this;
    if (rows.rows() == 0) return q;
    for (Eigen::Index i = 0; i < rows.rows(); ++i) {
      for (std::size_t j = 0; j < lo_.size(); ++j) {
        const T x = rows(i, static_cast<Eigen::Index>(j));
        if (!q.trained_ && i == 0) {
          q.lo_[j] = q.hi_[j] = x;
        } else {
          q.lo_[j] = std::min(q.lo_[j], x);
          q.hi_[j] = std::max(q.hi_[j], x);
        }
        if (q.integral_[j] && x != std::nearbyint(x)) q.integral_[j] = 0;
      }
    }
    q.trained_ = true;
    q.derive();
    return q;
  }

  /// True when both code every value the same way.
  bool same_codes(const ScalarQuantizer& other) const noexcept {
    return offset_ == other.offset_ && scale_ == other.scale_;
  }

  /// Codes of one row of dim() values into codes[0, dim()), one byte each.
  void encode(const T* row, std::uint8_t* codes) const noexcept {
    for (std::size_t j = 0; j < lo_.size(); ++j) {
      const T c = std::nearbyint((row[j] - offset_[j]) / scale_[j]);
      codes[j] = static_cast<std::uint8_t>(std::clamp(c, T(0), T(kMaxCode)));
    }
  }

  /// The row the codes stand for.
  void decode(const std::uint8_t* codes, T* row) const noexcept {
    for (std::size_t j = 0; j < lo_.size(); ++j) row[j] = offset_[j] + scale_[j] * T(codes[j]);
  }

 private:
  void derive() {
    for (std::size_t j = 0; j < lo_.size(); ++j) {
      const T range = hi_[j] - lo_[j];
      offset_[j] = lo_[j];
      scale_[j] =
          (range == T(0) || (integral_[j] && range <= T(kMaxCode))) ? T(1) : range / T(kMaxCode);
      // A subnormal range divides to 0: code such a column as constant (its coding error is
      // measured per row like any other, so the bounds still hold).
      if (!(scale_[j] > T(0))) scale_[j] = T(1);
    }
  }

  std::vector<T> lo_, hi_;
  std::vector<std::uint8_t> integral_;
  std::vector<T> offset_, scale_;
  bool trained_ = false;
};

/// The 8-bit quantiser (lossless for 8-bit data).
template <class T>
using ScalarQuantizer8 = ScalarQuantizer<T, 8>;

}  // namespace pstable::detail
