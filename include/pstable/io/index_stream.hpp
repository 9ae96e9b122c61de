#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pstable/config.hpp"
#include "pstable/core/error.hpp"
#include "pstable/detail/atomic_file.hpp"
#include "pstable/detail/endian.hpp"
#include "pstable/detail/index_serializer.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/mapped_file.hpp"
#include "pstable/detail/parallel.hpp"
#include "pstable/detail/validate.hpp"
#include "pstable/index/families.hpp"
#include "pstable/io/index_format.hpp"

// pstable's index files (layout in docs/file-format.md): a 64-byte header, a parameters block,
// typed data sections and a CRC-32 trailer, all little-endian. save_index writes through a
// temporary file renamed over the target; load_index checks size, checksum, version and type
// before it allocates anything. Index types plug in through detail::IndexSerializer.

namespace pstable {
namespace detail {

/// CRC-32 (zlib's polynomial) of n bytes, continuing from `crc`.
inline std::uint32_t crc32_update(std::uint32_t crc, const unsigned char* bytes, std::size_t n) {
  uLong c = crc;
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, std::size_t(1) << 30));
    c = ::crc32(c, bytes, chunk);
    bytes += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

/// CRC-32 of n bytes in memory (a mapped file): slices of kCrcSlice bytes checksummed on every
/// hardware thread and joined with crc32_combine, which gives the value of one pass.
inline constexpr std::uint64_t kCrcSlice = std::uint64_t(4) << 20;
inline std::uint32_t parallel_crc32(const unsigned char* bytes, std::uint64_t n) {
  const std::uint64_t slices = std::max<std::uint64_t>(1, n / kCrcSlice);
  const std::uint64_t step = n / slices;  // the last slice also takes the remainder
  const auto begin_of = [&](std::uint64_t s) { return s * step; };
  const auto end_of = [&](std::uint64_t s) { return s + 1 == slices ? n : (s + 1) * step; };
  std::vector<std::uint32_t> crcs(static_cast<std::size_t>(slices));
  parallel_for(static_cast<std::ptrdiff_t>(slices), 0, 1, [&](auto first, auto last, int) {
    for (auto s = static_cast<std::uint64_t>(first); s < static_cast<std::uint64_t>(last); ++s) {
      crcs[static_cast<std::size_t>(s)] =
          crc32_update(0, bytes + begin_of(s), static_cast<std::size_t>(end_of(s) - begin_of(s)));
    }
  });
  uLong crc = crcs[0];
  for (std::uint64_t s = 1; s < slices; ++s) {
    crc = ::crc32_combine(crc, crcs[static_cast<std::size_t>(s)],
                          static_cast<z_off_t>(end_of(s) - begin_of(s)));
  }
  return static_cast<std::uint32_t>(crc);
}

/// Streams one index file: the header (patched at the end), the parameters block, then sections.
/// Serializers call `param` for every parameter first, then `section` for every array.
class IndexFileWriter {
 public:
  IndexFileWriter(AtomicFileWriter& file, const FileHeader& header) : file_(file), header_(header) {
    const auto placeholder = header_.encode();
    file_.write(placeholder.data(), placeholder.size());
  }

  /// Appends one named parameter (integer or float) to the parameters block; before any section.
  /// An entry is: u8 name length, the name, u8 element type, the value (docs/file-format.md).
  template <class E>
  void param(std::string_view name, E value) {
    PSTABLE_ASSERT(!params_written_ && is_param_name(name));
    params_.push_back(static_cast<unsigned char>(name.size()));
    params_.insert(params_.end(), name.begin(), name.end());
    params_.push_back(static_cast<unsigned char>(element_type_of<E>()));
    unsigned char bytes[sizeof(E)];
    store_le<E>(bytes, value);
    params_.insert(params_.end(), bytes, bytes + sizeof(E));
  }

  /// Writes a data section: 4-character tag ("ROWS"), element type, count, then the values.
  template <class E>
  void section(const char (&tag)[5], const E* values, std::size_t count) {
    write_params();
    unsigned char head[kSectionHeaderBytes] = {};
    std::memcpy(head, tag, 4);
    head[4] = static_cast<unsigned char>(element_type_of<E>());
    store_le<std::uint64_t>(head + 8, count);
    body(head, sizeof head);
    if constexpr (kHostLittleEndian || sizeof(E) == 1) {
      body(reinterpret_cast<const unsigned char*>(values), count * sizeof(E));
    } else {
      std::vector<unsigned char> chunk;
      for (std::size_t done = 0; done < count; done += kChunk) {
        const std::size_t n = std::min(kChunk, count - done);
        chunk.resize(n * sizeof(E));
        array_to_le(values + done, n, chunk.data());
        body(chunk.data(), chunk.size());
      }
    }
    pad(count * sizeof(E));
    ++header_.section_count;
  }

  template <class E>
  void section(const char (&tag)[5], const std::vector<E>& values) {
    section(tag, values.data(), values.size());
  }

  /// Writes the trailer and the final header.
  void finish() {
    write_params();
    header_.file_bytes = file_.position() + kTrailerBytes;
    const auto head = header_.encode();
    file_.overwrite(0, head.data(), head.size());
    const auto body_bytes = file_.position() - kHeaderBytes;
    const std::uint32_t crc = static_cast<std::uint32_t>(::crc32_combine(
        crc32_update(0, head.data(), head.size()), body_crc_, static_cast<z_off_t>(body_bytes)));
    unsigned char trailer[kTrailerBytes];
    store_le<std::uint32_t>(trailer, crc);
    std::memcpy(trailer + 4, kTrailerMagic.data(), 4);
    file_.write(trailer, sizeof trailer);
  }

 private:
  static constexpr std::size_t kChunk = 1 << 16;

  void body(const unsigned char* bytes, std::size_t n) {
    file_.write(bytes, n);
    body_crc_ = crc32_update(body_crc_, bytes, n);
  }

  void pad(std::uint64_t n) {
    static constexpr unsigned char zeros[kAlignment] = {};
    body(zeros, static_cast<std::size_t>(padding_after(n)));
  }

  void write_params() {
    if (params_written_) return;
    params_written_ = true;
    header_.params_bytes = params_.size();
    body(params_.data(), params_.size());
    pad(params_.size());
  }

  AtomicFileWriter& file_;
  FileHeader header_;
  std::vector<unsigned char> params_;
  bool params_written_ = false;
  std::uint32_t body_crc_ = 0;
};

/// Reads one index file, through buffered reads (LoadMode::copy) or a read-only mapping
/// (LoadMode::map). The constructor checks everything that does not depend on the index
/// type: magic, format version, file size, checksum and header fields. Serializers then read
/// `param`s and `section`s in the order they were written; every length is checked against the
/// bytes left before anything is allocated. From a mapping, `values_in_place` hands out a
/// section's values where they lie, and `mapping()` is what keeps them alive.
class IndexFileReader {
 public:
  explicit IndexFileReader(const std::string& path, LoadMode mode = LoadMode::copy) : path_(path) {
    if (mode == LoadMode::map) {
      map_ = MappedFile::open(path);
    } else {
      file_.emplace(path);
    }
    read_header();
    verify_checksum();
    seek(kHeaderBytes);
    params_.resize(static_cast<std::size_t>(header_.params_bytes));
    read_raw(params_.data(), params_.size(), "the parameters block");
    skip_padding(header_.params_bytes);
    if (named_params()) index_params();
  }

  const std::string& path() const noexcept { return path_; }
  const FileHeader& header() const noexcept { return header_; }
  const IndexFileInfo& info() const noexcept { return info_; }

  /// Throws FormatError: "'<path>' is not a valid pstable index file: <what>".
  [[noreturn]] void corrupt(const std::string& what) const {
    throw FormatError(concat("'", path(), "' is not a valid pstable index file: ", what));
  }

  /// Whether the parameters are named entries (format 6 on) rather than packed in a fixed order.
  bool named_params() const noexcept { return header_.format_version >= kNamedParamsVersion; }

  /// Parameter `name`, which must be in the file with element type E. Files before format 6
  /// hold the parameters packed in the order the kind defines: there this reads the next one,
  /// and `name` only goes into the error message.
  template <class E>
  E param(const char* name) {
    if (!named_params()) {
      if (params_.size() - param_offset_ < sizeof(E)) {
        corrupt(
            concat("the parameters block (", params_.size(), " bytes) ends before '", name, "'"));
      }
      const E value = load_le<E>(params_.data() + param_offset_);
      param_offset_ += sizeof(E);
      return value;
    }
    const auto entry = named_.find(name);
    if (entry == named_.end()) corrupt(concat("parameter '", name, "' is missing"));
    return named_value<E>(entry->second, name);
  }

  /// Named parameter `name`, or `fallback` when the file does not hold it (format 6 on only): a
  /// parameter added to a kind after format 6 defaults to what files without it meant.
  template <class E>
  E param_or(const char* name, E fallback) {
    PSTABLE_ASSERT(named_params());
    const auto entry = named_.find(name);
    return entry == named_.end() ? fallback : named_value<E>(entry->second, name);
  }

  /// Reads the next section header, which must carry `tag` and elements of type E, and returns
  /// its element count (checked against the bytes left). Read the values with read_values.
  template <class E>
  std::uint64_t begin_section(const char (&tag)[5]) {
    if (sections_read_ == header_.section_count) {
      corrupt(concat("expected section ", tag, " but the header lists only ", header_.section_count,
                     " sections"));
    }
    unsigned char head[kSectionHeaderBytes];
    read_bytes(head, sizeof head, "a section header");
    if (std::memcmp(head, tag, 4) != 0) {
      corrupt(concat("expected section ", tag, ", found '", std::string(head, head + 4), "'"));
    }
    const auto type = static_cast<ElementType>(head[4]);
    if (type != element_type_of<E>()) {
      corrupt(concat("section ", tag, " holds ", to_string(type), " values, expected ",
                     to_string(element_type_of<E>())));
    }
    const auto count = load_le<std::uint64_t>(head + 8);
    if (count > data_left() / sizeof(E)) {
      corrupt(concat("section ", tag, " declares ", count, " values of ", sizeof(E),
                     " bytes but only ", data_left(), " bytes are left"));
    }
    ++sections_read_;
    return count;
  }

  /// Reads the `count` values of the section just begun (count as begin_section returned).
  template <class E>
  void read_values(E* out, std::uint64_t count) {
    const std::uint64_t bytes = count * sizeof(E);
    if constexpr (kHostLittleEndian || sizeof(E) == 1) {
      read_bytes(reinterpret_cast<unsigned char*>(out), static_cast<std::size_t>(bytes),
                 "section data");
    } else {
      std::vector<unsigned char> chunk;
      for (std::uint64_t done = 0; done < count; done += kChunk) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, count - done));
        chunk.resize(n * sizeof(E));
        read_bytes(chunk.data(), chunk.size(), "section data");
        array_from_le(chunk.data(), n, out + done);
      }
    }
    skip_padding(bytes);
  }

  /// The `count` values of the section just begun (count as begin_section returned), where they
  /// lie in the mapped file, valid while mapping() is held; or nullptr, having read nothing, when
  /// the reader copies: LoadMode::copy, or values a big-endian host must convert (then call
  /// read_values).
  template <class E>
  const E* values_in_place(std::uint64_t count) {
    if (!map_ || !(kHostLittleEndian || sizeof(E) == 1)) return nullptr;
    const std::uint64_t bytes = count * sizeof(E);  // begin_section bounded count
    if (bytes > data_left()) {
      corrupt(concat("section data needs ", bytes, " bytes at offset ", position(), ", only ",
                     data_left(), " are left"));
    }
    const unsigned char* at = map_->data() + position();
    // Sections start at multiples of 8 in the file and the mapping at a page: always aligned.
    PSTABLE_ASSERT(reinterpret_cast<std::uintptr_t>(at) % alignof(E) == 0);
    map_position_ += bytes;
    skip_padding(bytes);
    return reinterpret_cast<const E*>(at);
  }

  /// The mapping that values_in_place points into (null for LoadMode::copy): an index reading
  /// values in place holds it.
  std::shared_ptr<const void> mapping() const noexcept { return map_; }

  /// Reads a whole section of any length into a vector.
  template <class E>
  std::vector<E> section(const char (&tag)[5]) {
    const auto count = begin_section<E>(tag);
    if (const E* in_place = values_in_place<E>(count)) {  // copied once, not zeroed first
      return std::vector<E>(in_place, in_place + count);
    }
    std::vector<E> values(static_cast<std::size_t>(count));
    read_values(values.data(), count);
    return values;
  }

  /// Reads a section that must hold exactly `expected` values into `out`.
  template <class E>
  void section(const char (&tag)[5], E* out, std::uint64_t expected) {
    const auto count = begin_section<E>(tag);
    if (count != expected) {
      corrupt(concat("section ", tag, " holds ", count, " values, the header implies ", expected));
    }
    read_values(out, count);
  }

  /// Checks that every parameter and section was consumed.
  void finish() {
    if (param_offset_ != params_.size() && !named_params()) {
      corrupt(concat("the parameters block has ", params_.size() - param_offset_, " unread bytes"));
    }
    for (const auto& [name, entry] : named_) {
      if (!entry.read) {
        corrupt(concat("unknown parameter '", name, "' for an ", to_string(info_.kind),
                       " index (written by a newer pstable? upgrade pstable)"));
      }
    }
    if (sections_read_ != header_.section_count || data_left() != 0) {
      corrupt(concat("the header lists ", header_.section_count, " sections, ", sections_read_,
                     " were expected; ", data_left(), " bytes are left before the checksum"));
    }
  }

 private:
  static constexpr std::size_t kChunk = 1 << 16;

  std::uint64_t data_end() const noexcept { return header_.file_bytes - kTrailerBytes; }
  std::uint64_t data_left() const noexcept { return data_end() - position(); }

  // The byte source: the buffered file or the mapping.
  std::uint64_t file_size() const noexcept { return map_ ? map_->size() : file_->size(); }
  std::uint64_t position() const noexcept { return map_ ? map_position_ : file_->position(); }

  void seek(std::uint64_t offset) {
    if (!map_) return file_->seek(offset);
    PSTABLE_ASSERT(offset <= map_->size());
    map_position_ = offset;
  }

  // Exactly n bytes from the current position (FormatError "truncated" if the file ends first).
  void read_raw(void* out, std::size_t n, const char* what) {
    if (!map_) return file_->read(out, n, what);
    if (n > map_->size() - map_position_) {
      throw FormatError(concat("'", path_, "' is truncated: ", what, " needs ", n,
                               " bytes at offset ", map_position_, " but the file ends after ",
                               map_->size(),
                               " bytes; the file was cut short (interrupted copy or download?)"));
    }
    if (n > 0) std::memcpy(out, map_->data() + map_position_, n);
    map_position_ += n;
  }

  void read_bytes(unsigned char* out, std::size_t n, const char* what) {
    if (n > data_left()) {
      corrupt(concat(what, " needs ", n, " bytes at offset ", position(), ", only ", data_left(),
                     " are left"));
    }
    read_raw(out, n, what);
  }

  void skip_padding(std::uint64_t n) {
    unsigned char zeros[kAlignment];
    read_bytes(zeros, static_cast<std::size_t>(padding_after(n)), "padding");
  }

  void read_header() {
    const std::string& p = path();
    unsigned char b[kHeaderBytes] = {};
    const auto have = static_cast<std::size_t>(std::min<std::uint64_t>(file_size(), kHeaderBytes));
    read_raw(b, have, "the header");
    if (have == 0) {
      throw FormatError(concat("'", p, "' is empty (0 bytes), not a pstable index file"));
    }
    if (std::memcmp(b, kIndexMagic.data(), std::min(have, kIndexMagic.size())) != 0) {
      throw FormatError(concat("'", p, "' is not a pstable index file (", foreign_hint(b, have),
                               "); pstable index files start with \"PSTABLE\\0\""));
    }
    if (have < 12) truncated(kHeaderBytes, "the header");
    const auto version = load_le<std::uint32_t>(b + 8);
    if (version > kIndexFormatVersion) {
      throw FormatError(concat("'", p, "' was written by a newer pstable (format ", version,
                               "), this build reads up to ", kIndexFormatVersion,
                               ": upgrade pstable"));
    }
    if (version == 0) corrupt("format version 0 does not exist");
    if (have < kHeaderBytes) truncated(kHeaderBytes, "the header");
    header_ = FileHeader::decode(b);
    if (load_le<std::uint32_t>(b + 12) != kHeaderBytes) {
      corrupt(concat("header size ", load_le<std::uint32_t>(b + 12), ", format ", version, " has ",
                     kHeaderBytes));
    }
    if (header_.file_bytes > file_size()) truncated(header_.file_bytes, "the index");
    if (header_.file_bytes < file_size()) {
      corrupt(concat("the header says the file has ", header_.file_bytes, " bytes but it has ",
                     file_size(), "; something was appended to it or the header is damaged"));
    }
    if (header_.file_bytes < kHeaderBytes + kTrailerBytes) {
      corrupt(concat("the header gives a file size of ", header_.file_bytes, " bytes"));
    }
  }

  // CRC-32 of everything before the trailer against the trailer; then the header's fields.
  void verify_checksum() {
    seek(0);
    std::uint32_t crc = 0;
    if (map_) {
      crc = parallel_crc32(map_->data(), data_end());
      seek(data_end());
    } else {
      // At most 1 MiB, and no more than the file holds (small files need no big buffer).
      std::vector<unsigned char> chunk(
          static_cast<std::size_t>(std::min<std::uint64_t>(data_end(), std::uint64_t(1) << 20)));
      for (std::uint64_t left = data_end(); left > 0;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
        read_raw(chunk.data(), n, "the index");
        crc = crc32_update(crc, chunk.data(), n);
        left -= n;
      }
    }
    unsigned char trailer[kTrailerBytes];
    read_raw(trailer, sizeof trailer, "the checksum");
    const auto stored = load_le<std::uint32_t>(trailer);
    if (stored != crc || std::memcmp(trailer + 4, kTrailerMagic.data(), 4) != 0) {
      throw FormatError(concat("'", path(), "' is corrupted: checksum mismatch (stored ", stored,
                               ", computed ", crc,
                               "); restore it from a backup or rebuild the index"));
    }
    const auto kind = static_cast<IndexKind>(header_.kind);
    const auto scalar = static_cast<ScalarType>(header_.scalar);
    const auto metric = static_cast<MetricKind>(header_.metric);
    const char* newer = " (written by a newer pstable? upgrade pstable)";
    if (std::string(to_string(kind)) == "unknown")
      corrupt(concat("unknown index kind ", int(header_.kind), newer));
    if (std::string(to_string(scalar)) == "unknown")
      corrupt(concat("unknown scalar type ", int(header_.scalar), newer));
    if (std::string(to_string(metric)) == "unknown")
      corrupt(concat("unknown metric ", int(header_.metric), newer));
    const bool hashable = with_metric_code(
        header_.metric, [](auto m) { return has_lsh_family_v<decltype(m)>; }, [] { return false; });
    if (kind == IndexKind::e2lsh && !hashable) {
      corrupt(concat("it declares an E2LSH index under the ", to_string(metric),
                     " metric, which has no hash family and which pstable never writes"));
    }
    if (header_.format_version < 3) header_.storage = 0;  // reserved then: ignored
    const auto storage = static_cast<StorageKind>(header_.storage);
    if (std::string(to_string(storage)) == "unknown")
      corrupt(concat("unknown candidate storage ", int(header_.storage), newer));
    if (storage != StorageKind{} && kind != IndexKind::e2lsh) {
      corrupt(concat("it names candidate storage ", to_string(storage), " for an ", to_string(kind),
                     " index, which has none"));
    }
    if (header_.dim == 0 || header_.dim > kMaxDim) corrupt(concat("dimension ", header_.dim));
    if (header_.count > kMaxCount) corrupt(concat("point count ", header_.count));
    if (header_.params_bytes > data_end() - kHeaderBytes) {
      corrupt(concat("the parameters block of ", header_.params_bytes, " bytes exceeds the file"));
    }
    info_ = IndexFileInfo{header_.format_version,
                          kind,
                          scalar,
                          metric,
                          storage,
                          static_cast<std::int64_t>(header_.dim),
                          static_cast<std::int64_t>(header_.count),
                          header_.file_bytes};
  }

  [[noreturn]] void truncated(std::uint64_t expected, const char* what) const {
    throw FormatError(concat("'", path(), "' is truncated: ", what, " needs ", expected,
                             " bytes but the file has ", file_size(),
                             "; the file was cut short (interrupted copy or download?)"));
  }

  static std::string foreign_hint(const unsigned char* b, std::size_t n) {
    if (n >= 6 && std::memcmp(b, "\x93NUMPY", 6) == 0) return "it is a .npy array: use read_npy";
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "it is gzip-compressed";
    std::string hex = "starts with";
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 8); ++i) {
      static constexpr char digits[] = "0123456789abcdef";
      hex += ' ';
      hex += digits[b[i] >> 4];
      hex += digits[b[i] & 15];
    }
    return hex;
  }

  // Splits a named parameters block into its entries, checking each against the block's end.
  void index_params() {
    std::size_t at = 0;
    const std::size_t end = params_.size();
    while (at < end) {
      const std::size_t length = params_[at++];
      if (length > end - at) {
        corrupt(concat("a parameter name of ", length, " bytes runs past the parameters block"));
      }
      const std::string name(reinterpret_cast<const char*>(&params_[at]), length);
      if (!is_param_name(name)) {
        corrupt(concat("parameter ", named_.size() + 1,
                       " has no valid name (1-64 characters of a-z, 0-9 and _)"));
      }
      at += length;
      if (at == end) corrupt(concat("parameter '", name, "' has no element type"));
      const auto type = static_cast<ElementType>(params_[at++]);
      const std::size_t size = element_size(type);
      if (size == 0) corrupt(concat("parameter '", name, "' has unknown element type ", int(type)));
      if (size > end - at) corrupt(concat("parameter '", name, "' runs past the parameters block"));
      if (!named_.emplace(name, NamedParam{type, at, false}).second) {
        corrupt(concat("parameter '", name, "' appears twice"));
      }
      at += size;
    }
  }

  struct NamedParam {
    ElementType type;
    std::size_t at;  // offset of the value in params_
    bool read;
  };

  template <class E>
  E named_value(NamedParam& entry, const char* name) {
    if (entry.type != element_type_of<E>()) {
      corrupt(concat("parameter '", name, "' is ", to_string(entry.type), ", expected ",
                     to_string(element_type_of<E>())));
    }
    entry.read = true;
    return load_le<E>(params_.data() + entry.at);
  }

  static constexpr std::uint64_t kMaxDim = std::uint64_t(1) << 31;
  static constexpr std::uint64_t kMaxCount = std::uint64_t(1) << 62;

  std::string path_;
  std::optional<InputFile> file_;          // LoadMode::copy
  std::shared_ptr<const MappedFile> map_;  // LoadMode::map
  std::uint64_t map_position_ = 0;
  FileHeader header_;
  IndexFileInfo info_;
  std::vector<unsigned char> params_;
  std::size_t param_offset_ = 0;
  std::map<std::string, NamedParam, std::less<>> named_;
  std::uint32_t sections_read_ = 0;
};

}  // namespace detail

}  // namespace pstable
