#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// The ids of an index's rows, and which rows are removed: what `remove`, `contains`, `compact`
/// and `next_id` mean, the same for both indexes. Row r holds id r until the first compaction;
/// from then on the id map holds each row's id (the survivors', still increasing with the row,
/// so ties broken by the smaller row are broken by the smaller id). Removed rows are marked
/// (tombstones) until the index drops them and calls `compacted`. Ids are never reused.
class IdMap {
 public:
  /// The largest next id: far beyond any real index (ids grow by one per added row), low enough
  /// that adds never overflow the 64-bit ids. Loaders refuse files beyond it.
  static constexpr Id kMaxNextId = Id{1} << 62;

  /// Rows held, removed ones included.
  Eigen::Index rows() const noexcept { return static_cast<Eigen::Index>(removed_.size()); }
  Eigen::Index num_removed() const noexcept { return num_removed_; }
  /// Rows searches may return.
  Eigen::Index live() const noexcept { return rows() - num_removed_; }
  Id next_id() const noexcept { return next_id_; }
  /// True once a compaction dropped rows: ids are then looked up, not equal to rows.
  bool has_id_map() const noexcept { return mapped_; }
  /// One byte per row, 1 = removed.
  const std::vector<std::uint8_t>& tombstones() const noexcept { return removed_; }
  /// The id of each row (empty until the first compaction).
  const std::vector<Id>& ids() const noexcept { return ids_; }

  bool removed(Eigen::Index row) const noexcept {
    return removed_[static_cast<std::size_t>(row)] != 0;
  }
  Id id_of(Eigen::Index row) const noexcept {
    return mapped_ ? ids_[static_cast<std::size_t>(row)] : static_cast<Id>(row);
  }

  /// The row of `id`, or -1. Ids increase with the row, so the map is searched.
  Eigen::Index row_of(Id id) const noexcept {
    if (!mapped_) return (id >= 0 && id < rows()) ? static_cast<Eigen::Index>(id) : -1;
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    return (it != ids_.end() && *it == id) ? static_cast<Eigen::Index>(it - ids_.begin()) : -1;
  }

  /// True when `id` was added and not removed.
  bool contains(Id id) const noexcept {
    const Eigen::Index row = row_of(id);
    return row >= 0 && !removed(row);
  }

  /// Makes room for `m` more rows; throws (InvalidArgument if the ids would overflow, or
  /// bad_alloc) before anything changes. Call it before changing the index, then `append(m)`,
  /// which cannot throw.
  void reserve(Eigen::Index m) {
    if (m > std::numeric_limits<Id>::max() - next_id_) {
      throw InvalidArgument(concat("adding ", m, " rows would overflow the 64-bit ids"));
    }
    removed_.reserve(removed_.size() + static_cast<std::size_t>(m));
    if (mapped_) ids_.reserve(ids_.size() + static_cast<std::size_t>(m));
  }
  void append(Eigen::Index m) noexcept {
    removed_.resize(removed_.size() + static_cast<std::size_t>(m), 0);  // reserved: no throw
    if (mapped_) {
      for (Eigen::Index i = 0; i < m; ++i) ids_.push_back(next_id_ + i);
    }
    next_id_ += m;
  }

  /// Marks `id` removed. Throws InvalidArgument when it was never added or is already removed.
  void remove(Id id) {
    const Eigen::Index row = row_of(id);
    if (row < 0) {
      throw InvalidArgument(concat("id ", id, " is not in the index (ids run from 0 to ",
                                   next_id_ - 1, ", removed ids are gone after compact)"));
    }
    if (removed(row)) throw InvalidArgument(concat("id ", id, " was already removed"));
    removed_[static_cast<std::size_t>(row)] = 1;
    ++num_removed_;
  }

  /// The ids of the rows a compaction keeps, in row order (the index keeps the same rows).
  std::vector<Id> live_ids() const {
    std::vector<Id> out;
    out.reserve(static_cast<std::size_t>(live()));
    for (Eigen::Index r = 0; r < rows(); ++r) {
      if (!removed(r)) out.push_back(id_of(r));
    }
    return out;
  }

  /// After the index dropped its removed rows: `ids` (from live_ids()) become the rows' ids.
  void compacted(std::vector<Id> ids) noexcept {
    ids_ = std::move(ids);
    mapped_ = true;
    removed_.assign(ids_.size(), 0);  // no larger than before: no allocation needed
    num_removed_ = 0;
  }

  std::size_t memory_bytes() const noexcept {
    return removed_.capacity() + ids_.capacity() * sizeof(Id);
  }

  /// A map read from an index file, checked: tombstones 0 or 1, ids (when `mapped`) one per row,
  /// strictly increasing from >= 0 and below next_id, next_id in [rows, kMaxNextId] (equal to
  /// rows without a map). On a violation returns false and sets `problem`; nothing else throws
  /// but bad_alloc.
  static bool restore(Id next_id, bool mapped, std::vector<std::uint8_t> removed,
                      std::vector<Id> ids, IdMap& out, std::string& problem) {
    const auto n = static_cast<Id>(removed.size());
    if (next_id < 0 || next_id > kMaxNextId) {
      problem = concat("next id ", next_id, " is outside [0, 2^62]");
      return false;
    }
    Eigen::Index num_removed = 0;
    for (std::size_t r = 0; r < removed.size(); ++r) {
      if (removed[r] > 1) {
        problem = concat("tombstone of row ", r, " is ", int(removed[r]), ", not 0 or 1");
        return false;
      }
      num_removed += removed[r];
    }
    if (mapped) {
      if (static_cast<Id>(ids.size()) != n) {
        problem = concat("section IDMP holds ", ids.size(), " ids for ", n, " rows");
        return false;
      }
      for (std::size_t r = 0; r < ids.size(); ++r) {
        const bool ordered = r == 0 ? ids[r] >= 0 : ids[r] > ids[r - 1];
        if (!ordered || ids[r] >= next_id) {
          problem = concat("id ", ids[r], " of row ", r,
                           " breaks the id map (ids must increase strictly from 0 and stay "
                           "below the next id ",
                           next_id, ")");
          return false;
        }
      }
    } else {
      if (!ids.empty()) {
        problem = concat("section IDMP holds ", ids.size(), " ids but the id-map flag is 0");
        return false;
      }
      if (next_id != n) {
        problem = concat("next id ", next_id, " differs from the ", n,
                         " rows of an index without an id map");
        return false;
      }
    }
    out.next_id_ = next_id;
    out.mapped_ = mapped;
    out.removed_ = std::move(removed);
    out.ids_ = std::move(ids);
    out.num_removed_ = num_removed;
    return true;
  }

 private:
  Id next_id_ = 0;
  Eigen::Index num_removed_ = 0;
  bool mapped_ = false;
  std::vector<std::uint8_t> removed_;
  std::vector<Id> ids_;
};

}  // namespace pstable::detail
