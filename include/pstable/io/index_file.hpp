#pragma once

// Index files: save_index / load_index / read_index_file_info for every index kind. Persistence
// depends on the indexes, never the other way round: each kind's serializer lives beside this
// header (exact_file.hpp, e2lsh_file.hpp), the indexes know nothing about files.

#include <string>
#include <type_traits>

#include "pstable/io/e2lsh_file.hpp"
#include "pstable/io/exact_file.hpp"
#include "pstable/io/index_stream.hpp"

namespace pstable {

/// Reads and verifies an index file's header and checksum without loading it: tells which
/// index type loads it (`info.type_name()`), e.g. to pick a template instantiation at run time.
/// Throws IoError / FormatError like load_index.
inline IndexFileInfo read_index_file_info(const std::string& path) {
  return detail::IndexFileReader(path).info();
}

namespace detail {
/// A serializer's `storage` (the header's candidate-storage byte), 0 (full rows) if it has none.
template <class Serializer, class = void>
struct storage_of {
  static constexpr StorageKind value{};
};
template <class Serializer>
struct storage_of<Serializer, std::void_t<decltype(Serializer::storage)>> {
  static constexpr StorageKind value = Serializer::storage;
};
}  // namespace detail

/// Saves `index` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over `path`, so an interrupted or failed save leaves the previous
/// file as it was and no temporary behind. Throws IoError if the file cannot be written.
template <class Index>
void save_index(const Index& index, const std::string& path) {
  using Serializer = detail::IndexSerializer<Index>;
  detail::FileHeader header;
  header.kind = static_cast<std::uint8_t>(Serializer::kind);
  header.scalar = static_cast<std::uint8_t>(detail::scalar_type_of<typename Serializer::Scalar>());
  header.metric =
      static_cast<std::uint8_t>(detail::metric_kind_of<typename Serializer::MetricType>());
  header.storage = static_cast<std::uint8_t>(detail::storage_of<Serializer>::value);
  header.dim = static_cast<std::uint64_t>(index.dim());
  header.count = static_cast<std::uint64_t>(index.size());
  detail::AtomicFileWriter file(path);
  detail::IndexFileWriter writer(file, header);
  Serializer::save(index, writer);
  writer.finish();
  file.commit();
}

namespace detail {

/// load_index on an opened reader (whose info() a caller may first read to pick Index).
template <class Index>
Index load_index_from(IndexFileReader& reader) {
  using Serializer = IndexSerializer<Index>;
  const std::string& path = reader.path();
  IndexFileInfo wanted = reader.info();
  wanted.kind = Serializer::kind;
  wanted.scalar = detail::scalar_type_of<typename Serializer::Scalar>();
  wanted.metric = detail::metric_kind_of<typename Serializer::MetricType>();
  const IndexFileInfo& found = reader.info();
  if (found.kind != wanted.kind || found.scalar != wanted.scalar || found.metric != wanted.metric) {
    throw FormatError(concat("'", path, "' holds a ", found.description(), "; load it as ",
                             found.type_name(), ", not as ", wanted.type_name()));
  }
  try {
    Index index = Serializer::load(reader);
    reader.finish();
    return index;
  } catch (const InvalidArgument& e) {
    throw FormatError(concat("'", path, "' holds an index pstable rejects: ", e.what()));
  }
}

}  // namespace detail

/// Loads an index saved by save_index. Throws IoError if the file cannot be read (or mapped)
/// and FormatError if it is not a pstable index file, is truncated or corrupted (checksum), was
/// written by a newer pstable, or holds another index kind, scalar type or metric than Index.
/// The candidate storage is not part of that match: an E2LSH file saved with either storage
/// loads into either (the file holds full-precision rows; codes are rebuilt from them).
///
/// `LoadMode::map` maps the file read-only and lets the index read its rows in place instead of
/// copying them (see LoadMode): opening costs one checksum pass over the mapping plus the
/// index's own checks, and processes mapping one file share its pages. The index keeps the
/// mapping alive (its copies share it); on POSIX the file may be unlinked or replaced by
/// save_index meanwhile, but must not be truncated or rewritten in place.
template <class Index>
Index load_index(const std::string& path, LoadMode mode = LoadMode::copy) {
  detail::IndexFileReader reader(path, mode);
  return detail::load_index_from<Index>(reader);
}

}  // namespace pstable
