#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "pstable/config.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/huge_page_allocator.hpp"

namespace pstable::detail {

/// Rows of points, either owned (copied in, growing geometrically) or borrowed: a pointer the
/// caller keeps alive and unchanged, or that `owner` (e.g. a mapped file) keeps alive for as long
/// as the store borrows; copies of the store share the owner. Appending to borrowed rows first
/// copies them, so the store owns everything from then on (and releases the owner).
template <class T>
class PointStore {
 public:
  explicit PointStore(Eigen::Index dim = 0) : dim_(dim) {}

  Eigen::Index dim() const noexcept { return dim_; }
  Eigen::Index size() const noexcept { return size_; }
  bool owns_data() const noexcept { return borrowed_ == nullptr; }
  const T* data() const noexcept { return borrowed_ ? borrowed_ : owned_.data(); }
  const T* row(Id i) const noexcept {
    return data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(dim_);
  }

  Eigen::Map<const RowMatrix<T>> matrix() const noexcept { return {data(), size_, dim_}; }
  Eigen::Map<const RowMatrix<T>> rows(Eigen::Index begin, Eigen::Index count) const noexcept {
    return {row(begin), count, dim_};
  }

  /// Points at the caller's rows, kept alive by `owner` if given; the store must be empty.
  void borrow(const T* rows, Eigen::Index count, std::shared_ptr<const void> owner = {}) {
    PSTABLE_ASSERT(size_ == 0);
    borrowed_ = rows;
    owner_ = std::move(owner);
    size_ = count;
  }

  /// Makes room for `extra` more rows; may throw std::bad_alloc and then changes nothing.
  void reserve_more(Eigen::Index extra) {
    const std::size_t need = static_cast<std::size_t>((size_ + extra) * dim_);
    if (borrowed_) {
      Buffer copy;
      copy.reserve(std::max(need, 2 * static_cast<std::size_t>(size_ * dim_)));
      copy.assign(borrowed_, borrowed_ + size_ * dim_);
      owned_.swap(copy);
      borrowed_ = nullptr;
      owner_.reset();
    } else if (need > owned_.capacity()) {
      owned_.reserve(std::max(need, 2 * owned_.capacity()));
    }
  }

  /// Appends rows (already validated, capacity reserved).
  void append(const MatrixRef<T>& rows) {
    reserve_more(rows.rows());
    for (Eigen::Index i = 0; i < rows.rows(); ++i) {
      owned_.insert(owned_.end(), rows.row(i).data(), rows.row(i).data() + dim_);
    }
    size_ += rows.rows();
  }

  /// Bytes held by the store itself (0 for borrowed rows).
  std::size_t memory_bytes() const noexcept { return owned_.capacity() * sizeof(T); }

 private:
  Eigen::Index dim_ = 0;
  Eigen::Index size_ = 0;
  using Buffer = std::vector<T, HugePageAllocator<T>>;  // large stores on huge pages

  Buffer owned_;
  const T* borrowed_ = nullptr;
  std::shared_ptr<const void> owner_;  // keeps borrowed_ alive, when the store was given one
};

}  // namespace pstable::detail
