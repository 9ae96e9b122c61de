#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "pstable/core/types.hpp"
#include "pstable/detail/gemm.hpp"

namespace pstable::detail {

/// SplitMix64 (Steele, Lea, Flood 2014), written out so that a seed gives the same stream on
/// every platform and standard library (std::normal_distribution does not).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Standard normal by the Box-Muller transform; both values of a pair are used in turn.
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925 * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

/// The 64-bit finaliser of SplitMix64: a bijection that spreads every input bit.
inline std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// slot_key's state before the first slot, and one slot folded in (exposed so that multi-probe
/// can re-hash a perturbed bucket from its first changed slot on).
inline constexpr std::uint64_t kSlotKeySeed = 0x243F6A8885A308D3ULL;
inline std::uint64_t slot_key_round(std::uint64_t h, std::int32_t slot) noexcept {
  h = (h ^ static_cast<std::uint32_t>(slot)) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

/// The bucket key of a table: its k slot values combined into one well-mixed 64-bit word.
/// Distinct slot vectors share a key with probability about 2^-64 per pair. Stored in index
/// files: changing it changes the format.
inline std::uint64_t slot_key(const std::int32_t* slots, int k) noexcept {
  std::uint64_t h = kSlotKeySeed;
  for (int i = 0; i < k; ++i) h = slot_key_round(h, slots[i]);
  return mix64(h);
}

/// floor(f) as an int32 slot; values beyond the int32 range share the extreme slots, NaN the
/// lowest (an overflowed projection must not be cast: undefined behaviour).
template <class T>
inline std::int32_t to_slot(T f) noexcept {
  constexpr T lo = T(-2147483648.0);
  constexpr T hi = T(2147483520.0);  // below 2^31 and exact in float
  const T v = std::floor(f);
  return static_cast<std::int32_t>(!(v >= lo) ? lo : (v > hi ? hi : v));  // NaN -> lo
}

/// The p-stable hash functions of an index: function j is h_j(p) = floor((a_j . p + b_j) / w) with
/// a_j's coordinates drawn from the p-stable distribution `Stable` (Gaussian or Cauchy, each
/// with its collision probability) and b_j = w u_j, u_j ~ U[0, 1). Everything else (tables,
/// multi-probe, collision counting) only sees the k slots and their fractional parts, so a family
/// is one small struct (see index/gaussian.hpp). Draw order, fixed: for j = 0, 1, ...: the dim
/// coordinates of a_j, then u_j, all from SplitMix64(seed) (normals by Box-Muller). Table t of
/// an index with k hashes per table uses functions t*k .. t*k + k - 1, so indexes with the same
/// seed share their first functions whatever L, k and w are.
///
/// The index stores a_j / w and u_j, so that one matrix product gives f_j = (a_j . p + b_j) / w
/// for a whole batch of rows, and slots are floor(f_j).
template <class T, class Stable>
class HashFamily {
 public:
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

  HashFamily() = default;

  HashFamily(Eigen::Index dim, int num_functions, double width, std::uint64_t seed)
      : width_(width), scaled_(dim, num_functions), offsets_(1, num_functions) {
    SplitMix64 rng(seed);
    for (int j = 0; j < num_functions; ++j) {
      for (Eigen::Index c = 0; c < dim; ++c) {
        scaled_(c, j) = static_cast<T>(Stable::draw(rng) / width);
      }
      offsets_(0, j) = static_cast<T>(rng.uniform());
    }
  }

  /// A family from stored values (a_j / w as a dim x num_functions column-major matrix, u_j),
  /// as an index file holds them; the caller has checked the shapes and values.
  static HashFamily from_stored(double width, ColMatrix scaled, RowVector<T> offsets) {
    HashFamily h;
    h.width_ = width;
    h.scaled_ = std::move(scaled);
    h.offsets_ = std::move(offsets);
    return h;
  }

  Eigen::Index dim() const noexcept { return scaled_.rows(); }
  int num_functions() const noexcept { return static_cast<int>(scaled_.cols()); }
  double width() const noexcept { return width_; }

  /// a_j / w, one column per function (dim x num_functions).
  const ColMatrix& scaled_projections() const noexcept { return scaled_; }
  /// u_j = b_j / w, one entry per function.
  const RowVector<T>& scaled_offsets() const noexcept { return offsets_; }

  /// a_j, as drawn (up to the rounding of the stored a_j / w).
  Eigen::Matrix<double, Eigen::Dynamic, 1> projection(int j) const {
    return scaled_.col(j).template cast<double>() * width_;
  }
  /// b_j in [0, w).
  double offset(int j) const noexcept { return static_cast<double>(offsets_(0, j)) * width_; }

  /// out = rows * A / w + u: row i holds f_j(rows.row(i)) for every function j. `out` is sized
  /// by the caller (rows.rows() x num_functions(), row-major: a matrix or a block of one);
  /// `gemm` holds the product's buffers across calls (a search's per-thread scratch).
  template <class Rows, class Out>
  void project_into(const Rows& rows, Out& out, detail::GemmWorkspace<T>& gemm) const {
    gemm.multiply(rows, scaled_, out);
    out.rowwise() += offsets_;
  }
  /// The same into `out`, resized to rows.rows() x num_functions().
  template <class Rows>
  void project(const Rows& rows, RowMatrix<T>& out, detail::GemmWorkspace<T>& gemm) const {
    out.resize(rows.rows(), scaled_.cols());
    project_into(rows, out, gemm);
  }
  template <class Rows>
  void project(const Rows& rows, RowMatrix<T>& out) const {
    detail::GemmWorkspace<T> gemm;
    project(rows, out, gemm);
  }

  std::size_t memory_bytes() const noexcept {
    return static_cast<std::size_t>(scaled_.size() + offsets_.size()) * sizeof(T);
  }

 private:
  double width_ = 1.0;
  ColMatrix scaled_;
  RowVector<T> offsets_;
};

/// Slots and key of table t from a row of f values (k functions per table).
template <class T>
inline std::uint64_t table_key(const T* f_row, int t, int k, std::int32_t* slots) noexcept {
  const T* f = f_row + static_cast<std::ptrdiff_t>(t) * k;
  for (int i = 0; i < k; ++i) slots[i] = to_slot(f[i]);
  return slot_key(slots, k);
}

/// Table keys of a block of rows from their hash values (row i of `f` holds k values per table
/// for L tables): table t's key of row i goes to keys[t * stride + i]. `slots` holds k values.
template <class T>
void block_table_keys(const RowMatrix<T>& f, int L, int k, std::uint64_t* keys, std::size_t stride,
                      std::int32_t* slots) noexcept {
  for (Eigen::Index i = 0; i < f.rows(); ++i) {
    std::uint64_t* key = keys + i;
    for (int t = 0; t < L; ++t, key += stride) *key = table_key(f.row(i).data(), t, k, slots);
  }
}

}  // namespace pstable::detail
