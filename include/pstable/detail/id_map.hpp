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

/// The ids of an index's rows, and which rows are removed: what `add(rows, ids)`, `remove`,
/// `contains`, `compact` and `next_id` mean, the same for both indexes.
///
/// Without user ids row r holds id r until the first compaction. An id map (one id per row)
/// starts with the first compaction or the first add with ids of the user's choosing; ids are
/// then looked up: by binary search while they increase with the row (the common case: default
/// ids, or user ids added in increasing order), otherwise through `by_id_`, the rows sorted by
/// id (8 bytes per row). Removed rows are marked (tombstones) until the index drops them. An id
/// is held from its add until the compaction after its removal, and a held id cannot be added
/// again. next_id, the id a row added without ids receives, is one past the largest id ever
/// held, so default ids are never reused.
class IdMap {
 public:
  /// The largest next id (ids lie in [0, 2^62)): far beyond any real index, low enough that
  /// adds never overflow the 64-bit ids. Loaders refuse files beyond it.
  static constexpr Id kMaxNextId = Id{1} << 62;

  /// Rows held, removed ones included.
  Eigen::Index rows() const noexcept { return static_cast<Eigen::Index>(removed_.size()); }
  Eigen::Index num_removed() const noexcept { return num_removed_; }
  /// Rows searches may return.
  Eigen::Index live() const noexcept { return rows() - num_removed_; }
  Id next_id() const noexcept { return next_id_; }
  /// True once rows and ids differ (after a compaction or an add with user ids).
  bool has_id_map() const noexcept { return mapped_; }
  /// One byte per row, 1 = removed.
  const std::vector<std::uint8_t>& tombstones() const noexcept { return removed_; }
  /// The id of each row (empty without an id map).
  const std::vector<Id>& ids() const noexcept { return ids_; }

  bool removed(Eigen::Index row) const noexcept {
    return removed_[static_cast<std::size_t>(row)] != 0;
  }
  Id id_of(Eigen::Index row) const noexcept {
    return mapped_ ? ids_[static_cast<std::size_t>(row)] : static_cast<Id>(row);
  }

  /// The row holding `id`, or -1.
  Eigen::Index row_of(Id id) const noexcept {
    if (!mapped_) return (id >= 0 && id < rows()) ? static_cast<Eigen::Index>(id) : -1;
    if (by_id_.empty()) {  // ids increase with the row
      const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
      return (it != ids_.end() && *it == id) ? static_cast<Eigen::Index>(it - ids_.begin()) : -1;
    }
    const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id, [&](Eigen::Index r, Id v) {
      return ids_[static_cast<std::size_t>(r)] < v;
    });
    return (it != by_id_.end() && ids_[static_cast<std::size_t>(*it)] == id) ? *it : -1;
  }

  /// True when `id` was added and not removed.
  bool contains(Id id) const noexcept {
    const Eigen::Index row = row_of(id);
    return row >= 0 && !removed(row);
  }

  /// The ids searches may return, in row order.
  std::vector<Id> live_ids() const {
    std::vector<Id> out;
    out.reserve(static_cast<std::size_t>(live()));
    for (Eigen::Index r = 0; r < rows(); ++r) {
      if (!removed(r)) out.push_back(id_of(r));
    }
    return out;
  }

  /// Checks the ids of `m` rows about to be added and makes room for them: `ids` is null
  /// (default ids next_id(), next_id() + 1, ...) or holds m user ids, each in [0, 2^62), none
  /// repeated and none held. Throws InvalidArgument naming the first offending id (or
  /// bad_alloc) before anything changes. Call it before changing the index, then
  /// `append(m, ids)` with the same arguments, which cannot throw.
  void reserve(Eigen::Index m, const Id* ids = nullptr) {
    staged_by_id_.clear();
    if (ids == nullptr) {
      if (m > kMaxNextId - next_id_) {
        throw InvalidArgument(concat("adding ", m, " rows would take the ids past 2^62"));
      }
      removed_.reserve(removed_.size() + static_cast<std::size_t>(m));
      if (mapped_) ids_.reserve(ids_.size() + static_cast<std::size_t>(m));
      // Default ids exceed every id held: the new rows go to the end of the lookup.
      if (!by_id_.empty()) by_id_.reserve(by_id_.size() + static_cast<std::size_t>(m));
      staged_mapped_ = mapped_;
      return;
    }
    check_new_ids(ids, m);
    staged_mapped_ = mapped_ || !consecutive(ids, m, next_id_);
    removed_.reserve(removed_.size() + static_cast<std::size_t>(m));
    if (staged_mapped_) ids_.reserve(static_cast<std::size_t>(rows() + m));
    // The lookup after the add: none while ids keep increasing with the row, else by_id_ with
    // the new rows merged in.
    const Id last = mapped_ ? (ids_.empty() ? -1 : ids_.back()) : next_id_ - 1;
    const bool ordered = by_id_.empty() && (m == 0 || ids[0] > last) &&
                         std::is_sorted(ids, ids + m, std::less_equal<Id>());
    if (staged_mapped_ && !ordered) stage_lookup(ids, m);
  }

  /// Adds the `m` rows `reserve(m, ids)` made room for.
  void append(Eigen::Index m, const Id* ids = nullptr) noexcept {
    const Eigen::Index first = rows();
    removed_.resize(removed_.size() + static_cast<std::size_t>(m), 0);  // reserved: no throw
    if (staged_mapped_ && !mapped_) {  // rows so far held ids 0 .. first - 1
      for (Eigen::Index r = 0; r < first; ++r) ids_.push_back(r);
      mapped_ = true;
    }
    Id next = next_id_;
    for (Eigen::Index i = 0; i < m; ++i) {
      const Id id = ids == nullptr ? next_id_ + i : ids[i];
      if (mapped_) ids_.push_back(id);
      if (ids == nullptr && !by_id_.empty()) by_id_.push_back(first + i);  // reserved
      next = std::max(next, id + 1);
    }
    next_id_ = next;
    if (!staged_by_id_.empty()) {
      by_id_.swap(staged_by_id_);
      std::vector<Eigen::Index>().swap(staged_by_id_);  // frees the old lookup
    }
  }

  /// Marks `id` removed. Throws InvalidArgument when it is not held or already removed.
  void remove(Id id) {
    const Eigen::Index row = row_of(id);
    if (row < 0) throw InvalidArgument(concat("id ", id, " is not in the index"));
    if (removed(row)) throw InvalidArgument(concat("id ", id, " was already removed"));
    removed_[static_cast<std::size_t>(row)] = 1;
    ++num_removed_;
  }

  /// The map after the index drops its removed rows (it keeps the others in order): the same
  /// ids and next id, no tombstones. Throws only bad_alloc.
  IdMap compacted() const {
    IdMap out;
    out.next_id_ = next_id_;
    out.mapped_ = true;
    out.ids_ = live_ids();
    out.removed_.assign(out.ids_.size(), 0);
    if (!by_id_.empty()) out.build_lookup();
    return out;
  }

  /// The rows compaction keeps (those not removed), in order: row r is read from row_at(r), a
  /// pointer to its `dim` values. With `remap`, remap[r] becomes r's row after compaction, or
  /// `gone` for a removed row. Throws only bad_alloc.
  template <class T, class RowAt>
  RowMatrix<T> live_rows(Eigen::Index dim, RowAt&& row_at,
                         std::vector<std::uint32_t>* remap = nullptr,
                         std::uint32_t gone = 0) const {
    RowMatrix<T> kept(live(), dim);
    if (remap != nullptr) remap->assign(static_cast<std::size_t>(rows()), gone);
    Eigen::Index next = 0;
    for (Eigen::Index r = 0; r < rows(); ++r) {
      if (removed(r)) continue;
      if (remap != nullptr)
        (*remap)[static_cast<std::size_t>(r)] = static_cast<std::uint32_t>(next);
      kept.row(next++) = Eigen::Map<const RowVector<T>>(row_at(r), dim);
    }
    return kept;
  }

  std::size_t memory_bytes() const noexcept {
    return removed_.capacity() + (ids_.capacity() + by_id_.capacity()) * sizeof(Id);
  }

  /// A map read from an index file, checked: tombstones 0 or 1, ids (when `mapped`) one per
  /// row, distinct, in [0, next_id), next_id in [0, 2^62] (equal to the rows without a map). On
  /// a violation returns false and sets `problem`; nothing else throws but bad_alloc.
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
    IdMap map;
    if (mapped) {
      if (static_cast<Id>(ids.size()) != n) {
        problem = concat("section IDMP holds ", ids.size(), " ids for ", n, " rows");
        return false;
      }
      bool ordered = true;
      for (std::size_t r = 0; r < ids.size(); ++r) {
        if (ids[r] < 0 || ids[r] >= next_id) {
          problem = concat("id ", ids[r], " of row ", r, " is outside [0, next id ", next_id, ")");
          return false;
        }
        ordered = ordered && (r == 0 || ids[r] > ids[r - 1]);
      }
      map.ids_ = std::move(ids);
      if (!ordered) {
        map.build_lookup();
        for (std::size_t i = 1; i < map.by_id_.size(); ++i) {
          const Id id = map.ids_[static_cast<std::size_t>(map.by_id_[i])];
          if (id == map.ids_[static_cast<std::size_t>(map.by_id_[i - 1])]) {
            problem = concat("id ", id, " is held by two rows");
            return false;
          }
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
    map.next_id_ = next_id;
    map.mapped_ = mapped;
    map.removed_ = std::move(removed);
    map.num_removed_ = num_removed;
    out = std::move(map);
    return true;
  }

 private:
  static bool consecutive(const Id* ids, Eigen::Index m, Id first) noexcept {
    for (Eigen::Index i = 0; i < m; ++i) {
      if (ids[i] != first + i) return false;
    }
    return true;
  }

  // Throws InvalidArgument for the first id out of range, repeated or held.
  void check_new_ids(const Id* ids, Eigen::Index m) const {
    for (Eigen::Index i = 0; i < m; ++i) {
      if (ids[i] < 0 || ids[i] >= kMaxNextId) {
        throw InvalidArgument(
            concat("ids must lie in [0, 2^62), got ", ids[i], " (id ", i, " of those added)"));
      }
      const Eigen::Index row = row_of(ids[i]);
      if (row >= 0) {
        throw InvalidArgument(
            removed(row) ? concat("id ", ids[i],
                                  " was removed but is held until compact(); compact the index "
                                  "before adding it again")
                         : concat("id ", ids[i], " is already in the index"));
      }
    }
    std::vector<Id> sorted(ids, ids + m);
    std::sort(sorted.begin(), sorted.end());
    const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
    if (twice != sorted.end()) {
      throw InvalidArgument(concat("id ", *twice, " appears twice in the ids added"));
    }
  }

  // staged_by_id_: the rows sorted by id once the m new rows (ids `ids`) are appended.
  void stage_lookup(const Id* ids, Eigen::Index m) {
    const Eigen::Index first = rows();
    std::vector<Eigen::Index> fresh(static_cast<std::size_t>(m));
    for (Eigen::Index i = 0; i < m; ++i) fresh[static_cast<std::size_t>(i)] = first + i;
    std::sort(fresh.begin(), fresh.end(),
              [&](Eigen::Index a, Eigen::Index b) { return ids[a - first] < ids[b - first]; });
    std::vector<Eigen::Index> old = by_id_;
    if (old.empty()) {  // the rows so far increase with their ids
      old.resize(static_cast<std::size_t>(first));
      for (Eigen::Index r = 0; r < first; ++r) old[static_cast<std::size_t>(r)] = r;
    }
    const auto id_at = [&](Eigen::Index r) { return r < first ? id_of(r) : ids[r - first]; };
    staged_by_id_.resize(old.size() + fresh.size());
    std::merge(old.begin(), old.end(), fresh.begin(), fresh.end(), staged_by_id_.begin(),
               [&](Eigen::Index a, Eigen::Index b) { return id_at(a) < id_at(b); });
  }

  // by_id_ from ids_.
  void build_lookup() {
    by_id_.resize(ids_.size());
    for (std::size_t r = 0; r < by_id_.size(); ++r) by_id_[r] = static_cast<Eigen::Index>(r);
    std::sort(by_id_.begin(), by_id_.end(), [&](Eigen::Index a, Eigen::Index b) {
      return ids_[static_cast<std::size_t>(a)] < ids_[static_cast<std::size_t>(b)];
    });
  }

  Id next_id_ = 0;
  Eigen::Index num_removed_ = 0;
  bool mapped_ = false;
  std::vector<std::uint8_t> removed_;
  std::vector<Id> ids_;
  std::vector<Eigen::Index> by_id_;  // rows sorted by id; empty while ids increase with the row
  // Set by reserve for the next append.
  bool staged_mapped_ = false;
  std::vector<Eigen::Index> staged_by_id_;
};

}  // namespace pstable::detail
