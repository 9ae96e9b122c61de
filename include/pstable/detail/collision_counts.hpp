#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pstable::detail {

/// How often each row collided with the current query (E2LSH collision counting), without
/// clearing anything between queries: entry r holds (epoch << 16) | count, and an entry stamped
/// with an older epoch reads as count 0. The whole array is cleared once every 65,535 queries,
/// when the epoch wraps. A row lies in one bucket per table, so a query counts it at most L times
/// and the count fits its 16 bits.
class CollisionCounts {
 public:
  /// Counts above this do not fit (E2LSHParams::kMaxTables stays below it).
  static constexpr std::uint32_t kMaxCount = 0xFFFF;

  explicit CollisionCounts(std::size_t rows) : marks_(rows, 0) {}

  /// Makes room for `rows` rows; new rows read count 0.
  void ensure(std::size_t rows) {
    if (marks_.size() < rows) marks_.resize(rows, 0);
  }

  /// Starts a new query (every count reads 0). Returns true when the epoch wrapped and the
  /// array was cleared, so that callers stamping their own arrays with epoch() clear them too.
  bool next_query() {
    if (++epoch_ < 0x10000) return false;
    clear();
    epoch_ = 1;
    return true;
  }

  /// Every count of the current query back to 0 (the epoch stays).
  void clear() { std::fill(marks_.begin(), marks_.end(), 0); }

  /// One more collision of `row` with the current query; returns its new count. Branch-free.
  std::uint32_t hit(std::uint32_t row) noexcept {
    const std::uint32_t v = marks_[row];
    const std::uint32_t c = ((v >> 16) == epoch_ ? (v & 0xFFFFu) : 0u) + 1;
    marks_[row] = (epoch_ << 16) | c;
    return c;
  }

  /// The current query's count of `row`.
  std::uint32_t count(std::uint32_t row) const noexcept {
    const std::uint32_t v = marks_[row];
    return (v >> 16) == epoch_ ? (v & 0xFFFFu) : 0u;
  }

  /// The current query's stamp, in [1, 65535].
  std::uint32_t epoch() const noexcept { return epoch_; }

 private:
  std::vector<std::uint32_t> marks_;
  std::uint32_t epoch_ = 1;
};

}  // namespace pstable::detail
