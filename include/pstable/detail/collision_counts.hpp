#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pstable::detail {

/// How often each row collided with the current query (E2LSH collision counting): a uint16
/// count per row, and the list of rows the query touched, so that starting the next query
/// resets only those (work proportional to the candidates, nothing of size n per query). Two
/// bytes per row keep the array small enough to stay in the L2 cache of a 60,000-row index,
/// and `hit` is one increment with no stamp to compare. A row lies in one bucket per table, so a
/// query counts it at most L times and the count fits its 16 bits.
class CollisionCounts {
 public:
  /// Counts above this do not fit (E2LSHParams::kMaxTables stays below it).
  static constexpr std::uint32_t kMaxCount = 0xFFFF;

  explicit CollisionCounts(std::size_t rows) { ensure(rows); }

  /// Makes room for `rows` rows; new rows read count 0.
  void ensure(std::size_t rows) {
    if (counts_.size() < rows) {
      counts_.resize(rows, 0);
      touched_.resize(rows + 1);  // hit writes one past the touched rows before it counts
    }
  }

  /// Starts a new query: every count reads 0 again.
  void next_query() noexcept {
    for (std::size_t e = 0; e < num_touched_; ++e) counts_[touched_[e]] = 0;
    num_touched_ = 0;
  }

  /// Every count back to 0 (after an exception left a query half-counted, say).
  void clear() noexcept {
    std::fill(counts_.begin(), counts_.end(), std::uint16_t{0});
    num_touched_ = 0;
  }

  /// One more collision of `row` (< the size passed to ensure) with the current query; returns
  /// its new count. A row seen for the first time joins `touched`. Branch-free: whether a row is
  /// new is unpredictable.
  std::uint32_t hit(std::uint32_t row) noexcept {
    const std::uint32_t c = ++counts_[row];
    touched_[num_touched_] = row;
    num_touched_ += c == 1;
    return c;
  }

  /// The current query's count of `row`.
  std::uint32_t count(std::uint32_t row) const noexcept { return counts_[row]; }

  /// The rows the current query touched, each once, in the order first seen.
  const std::uint32_t* touched() const noexcept { return touched_.data(); }
  std::size_t num_touched() const noexcept { return num_touched_; }

 private:
  std::vector<std::uint16_t> counts_;
  std::vector<std::uint32_t> touched_;
  std::size_t num_touched_ = 0;
};

}  // namespace pstable::detail
