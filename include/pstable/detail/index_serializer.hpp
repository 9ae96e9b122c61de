#pragma once

namespace pstable::detail {

/// Saves and loads one index type to and from pstable's index file format
/// (pstable/io/index_file.hpp, docs/file-format.md). Each index type specialises it:
///
///   template <class T, class Metric>
///   struct IndexSerializer<MyIndex<T, Metric>> {
///     using Scalar = T;
///     using MetricType = Metric;
///     static constexpr IndexKind kind = IndexKind::...;
///     static void save(const MyIndex<T, Metric>& index, IndexFileWriter& out);  // params, sections
///     static MyIndex<T, Metric> load(IndexFileReader& in);   // same params and sections, in order
///   };
///
/// An index whose state is private befriends every specialisation with
/// `template <class, class> friend struct detail::IndexSerializer;`.
template <class Index, class Enable = void>
struct IndexSerializer;

}  // namespace pstable::detail
