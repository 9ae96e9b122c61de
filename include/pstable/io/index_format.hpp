#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "pstable/detail/endian.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/storage/traits.hpp"

namespace pstable {

/// Version of the index file layout this build writes and the newest it reads
/// (docs/file-format.md). Bumped whenever the layout changes; older versions stay readable.
///   1: first layout.
///   2: kind 2 (e2lsh) appends min_collisions (i32) to its parameters; nothing else changed.
///   3: header byte 27 names the candidate storage (StorageKind; 0 in older files).
///   4: kind 1 (exact) gets parameters (next_id, id-map flag) and sections DELS and IDMP after
///      ROWS, as kind 2 has: removed points and the ids after a compaction.
///   5: IDMP may hold any distinct ids below next_id in any order (ids chosen by the user at
///      add); up to 4 they increased with the row. Nothing else changed.
///   6: the parameters block holds named, typed entries instead of values packed in a fixed
///      order, so a kind gains a parameter without a new layout.
inline constexpr std::uint32_t kIndexFormatVersion = 6;

/// First format version whose parameters block holds named entries.
inline constexpr std::uint32_t kNamedParamsVersion = 6;

/// How load_index reads an index file.
///   copy: the file is read into memory the index owns; the file may change afterwards.
///   map:  the file is mapped read-only and the index reads its large arrays (the rows) in place,
///         sharing the pages with every process that maps the same file; the index keeps the
///         mapping alive. The first add (or compact) copies the rows out: the file is never
///         written. Falls back to copying arrays a big-endian host cannot read in place.
enum class LoadMode : std::uint8_t { copy, map };

/// Which index a file holds.
enum class IndexKind : std::uint8_t { exact = 1, e2lsh = 2 };

/// Scalar type of the stored points.
enum class ScalarType : std::uint8_t { float32 = 1, float64 = 2 };

/// Metric of the stored index: the metric's `file_code` (metric/traits.hpp lists every metric).
enum class MetricKind : std::uint8_t {};

/// How an E2LSH index scores its candidates: the storage's `file_code` (storage/traits.hpp lists
/// every storage; 0 = full-precision rows only, the default of every index). Files always hold
/// the full-precision rows; codes are derived from them on load, so any E2LSH file loads into
/// any storage.
enum class StorageKind : std::uint8_t {};

/// "exact", "e2lsh" (or "unknown").
inline const char* to_string(IndexKind kind) noexcept {
  switch (kind) {
    case IndexKind::exact: return "exact";
    case IndexKind::e2lsh: return "e2lsh";
  }
  return "unknown";
}

/// "float32", "float64" (or "unknown").
inline const char* to_string(ScalarType scalar) noexcept {
  switch (scalar) {
    case ScalarType::float32: return "float32";
    case ScalarType::float64: return "float64";
  }
  return "unknown";
}

/// The storage's `name`: "full" (full-precision rows), "sq8", ... (or "unknown").
inline const char* to_string(StorageKind storage) noexcept {
  const char* name = storage_name(static_cast<std::uint8_t>(storage));
  return name != nullptr ? name : "unknown";
}

/// The metric's name ("euclidean", "cosine", "ip", "manhattan"), or "unknown".
inline const char* to_string(MetricKind metric) noexcept {
  return with_metric_code(
      static_cast<std::uint8_t>(metric), [](auto m) { return decltype(m)::name; },
      [] { return "unknown"; });
}

/// What an index file holds, read from its header (see read_index_file_info).
struct IndexFileInfo {
  std::uint32_t format_version = 0;
  IndexKind kind = IndexKind::exact;
  ScalarType scalar = ScalarType::float32;
  MetricKind metric = MetricKind{Euclidean::file_code};
  StorageKind storage{};  ///< E2LSH candidate storage it was saved with (0: full rows)
  std::int64_t dim = 0;
  std::int64_t count = 0;        ///< points in the index (index.size() when saved)
  std::uint64_t file_bytes = 0;  ///< total size of the file

  /// "float64 cosine exact index", "float32 euclidean e2lsh index (sq8 storage)".
  std::string description() const {
    return detail::concat(
        to_string(scalar), " ", to_string(metric), " ", to_string(kind), " index",
        storage == StorageKind{} ? "" : detail::concat(" (", to_string(storage), " storage)"));
  }

  /// The C++ type that loads it: "ExactIndex<double, Cosine>".
  std::string type_name() const {
    const char* cls = kind == IndexKind::exact ? "ExactIndex" : "E2LSHIndex";
    const char* t = scalar == ScalarType::float32 ? "float" : "double";
    const char* m = with_metric_code(
        static_cast<std::uint8_t>(metric), [](auto tag) { return decltype(tag)::type_name; },
        [] { return "unknown"; });
    return detail::concat(cls, "<", t, ", ", m, ">");
  }
};

namespace detail {

template <class T>
constexpr ScalarType scalar_type_of() noexcept {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double");
  return std::is_same_v<T, float> ? ScalarType::float32 : ScalarType::float64;
}

template <class Metric>
constexpr MetricKind metric_kind_of() noexcept {
  static_assert(is_metric_v<Metric>, "Metric must be one of pstable::Metrics");
  return MetricKind{Metric::file_code};
}

/// Element types of data sections (code stored in each section header).
enum class ElementType : std::uint8_t {
  f32 = 1,
  f64 = 2,
  i32 = 3,
  i64 = 4,
  u8 = 5,
  u32 = 6,
  u64 = 7
};

template <class E>
constexpr ElementType element_type_of() noexcept {
  if constexpr (std::is_same_v<E, float>)
    return ElementType::f32;
  else if constexpr (std::is_same_v<E, double>)
    return ElementType::f64;
  else if constexpr (std::is_same_v<E, std::int32_t>)
    return ElementType::i32;
  else if constexpr (std::is_same_v<E, std::int64_t>)
    return ElementType::i64;
  else if constexpr (std::is_same_v<E, std::uint8_t>)
    return ElementType::u8;
  else if constexpr (std::is_same_v<E, std::uint32_t>)
    return ElementType::u32;
  else {
    static_assert(std::is_same_v<E, std::uint64_t>, "section elements: f32 f64 i32 i64 u8 u32 u64");
    return ElementType::u64;
  }
}

/// Bytes of one element of `type`; 0 for a code this build does not know.
constexpr std::size_t element_size(ElementType type) noexcept {
  switch (type) {
    case ElementType::u8: return 1;
    case ElementType::f32:
    case ElementType::i32:
    case ElementType::u32: return 4;
    case ElementType::f64:
    case ElementType::i64:
    case ElementType::u64: return 8;
  }
  return 0;
}

/// A parameter name in an index file: 1 to 64 characters of a-z, 0-9 and '_'.
constexpr bool is_param_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

inline const char* to_string(ElementType type) noexcept {
  switch (type) {
    case ElementType::f32: return "f32";
    case ElementType::f64: return "f64";
    case ElementType::i32: return "i32";
    case ElementType::i64: return "i64";
    case ElementType::u8: return "u8";
    case ElementType::u32: return "u32";
    case ElementType::u64: return "u64";
  }
  return "unknown";
}

/// Layout constants of format versions 1 to 3 (docs/file-format.md).
inline constexpr std::array<unsigned char, 8> kIndexMagic = {'P', 'S', 'T', 'A', 'B', 'L', 'E', 0};
inline constexpr std::array<unsigned char, 4> kTrailerMagic = {'P', 'E', 'N', 'D'};
inline constexpr std::size_t kHeaderBytes = 64;
inline constexpr std::size_t kSectionHeaderBytes = 16;
inline constexpr std::size_t kTrailerBytes = 8;
inline constexpr std::size_t kAlignment = 8;

/// Bytes of zero padding after n bytes to reach the next multiple of kAlignment.
constexpr std::uint64_t padding_after(std::uint64_t n) noexcept {
  return (kAlignment - n % kAlignment) % kAlignment;
}

/// The fixed 64-byte header.
struct FileHeader {
  std::uint32_t format_version = kIndexFormatVersion;
  std::uint64_t file_bytes = 0;
  std::uint8_t kind = 0;
  std::uint8_t scalar = 0;
  std::uint8_t metric = 0;
  std::uint8_t storage = 0;  ///< from version 3; reserved (0) before
  std::uint32_t section_count = 0;
  std::uint64_t dim = 0;
  std::uint64_t count = 0;
  std::uint64_t params_bytes = 0;

  std::array<unsigned char, kHeaderBytes> encode() const noexcept {
    std::array<unsigned char, kHeaderBytes> b{};
    for (std::size_t i = 0; i < kIndexMagic.size(); ++i) b[i] = kIndexMagic[i];
    store_le<std::uint32_t>(&b[8], format_version);
    store_le<std::uint32_t>(&b[12], static_cast<std::uint32_t>(kHeaderBytes));
    store_le<std::uint64_t>(&b[16], file_bytes);
    b[24] = kind;
    b[25] = scalar;
    b[26] = metric;
    b[27] = storage;
    store_le<std::uint32_t>(&b[28], section_count);
    store_le<std::uint64_t>(&b[32], dim);
    store_le<std::uint64_t>(&b[40], count);
    store_le<std::uint64_t>(&b[48], params_bytes);
    // 56..63: reserved, zero in versions 1 and 2.
    return b;
  }

  /// Decodes the fields after the magic and version (checked by the caller).
  static FileHeader decode(const unsigned char* b) noexcept {
    FileHeader h;
    h.format_version = load_le<std::uint32_t>(&b[8]);
    h.file_bytes = load_le<std::uint64_t>(&b[16]);
    h.kind = b[24];
    h.scalar = b[25];
    h.metric = b[26];
    h.storage = b[27];
    h.section_count = load_le<std::uint32_t>(&b[28]);
    h.dim = load_le<std::uint64_t>(&b[32]);
    h.count = load_le<std::uint64_t>(&b[40]);
    h.params_bytes = load_le<std::uint64_t>(&b[48]);
    return h;
  }
};

}  // namespace detail
}  // namespace pstable
