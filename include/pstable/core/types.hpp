#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace pstable {

/// Point ids, in [0, 2^62): by default 0, 1, 2, ... in insertion order, continuing across `add`
/// calls, or the caller's own with `add(rows, ids)`. A point keeps its id when others are removed
/// and compacted away (detail::IdMap); default ids are never reused.
using Id = std::int64_t;

/// Points are rows of a row-major matrix; one point per row, one dimension per column.
template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One point (or query) as a row vector.
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

/// Read-only view of a row-major matrix. Row-major Eigen matrices, maps and C-contiguous numpy
/// arrays bind without a copy; other layouts are copied into a temporary by Eigen.
template <class T>
using MatrixRef = Eigen::Ref<const RowMatrix<T>>;

/// Read-only view of one point.
template <class T>
using VectorRef = Eigen::Ref<const RowVector<T>>;

/// A matrix of ids, one row per query.
using IdMatrix = Eigen::Matrix<Id, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One count per query.
using CountVector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

}  // namespace pstable
