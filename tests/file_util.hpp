#pragma once

// Test helpers for file I/O: a scratch directory removed at the end, raw byte files.

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace testing {

using Bytes = std::vector<unsigned char>;

/// A fresh directory under the system temp directory, deleted with everything in it.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("pstable-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

  /// Names of the files in the directory.
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

/// Appends `value` as little-endian bytes (written out byte by byte, independent of the library).
template <class U>
void put_le(Bytes& out, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i)
    out.push_back(static_cast<unsigned char>(value >> (8 * i)));
}

inline void put_f32(Bytes& out, float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  put_le(out, bits);
}

template <class U>
void patch_le(Bytes& bytes, std::size_t offset, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
  }
}

template <class U>
U get_le(const Bytes& bytes, std::size_t offset) {
  U value = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) value |= U(bytes[offset + i]) << (8 * i);
  return value;
}

/// One named parameter of an index file (format 6 on), as docs/file-format.md lays it out:
/// u8 name length, the name, u8 element type, the value.
template <class U>
void put_param(Bytes& block, const std::string& name, std::uint8_t type, U value) {
  block.push_back(static_cast<unsigned char>(name.size()));
  block.insert(block.end(), name.begin(), name.end());
  block.push_back(type);
  put_le(block, value);
}

/// Offset of the value of parameter `name` in an index file with named parameters (format 6
/// on), found by walking the block independently of the library; 0 when it is absent.
inline std::size_t param_offset(const Bytes& b, const std::string& name) {
  static const std::size_t sizes[] = {0, 4, 8, 4, 8, 1, 4, 8};
  const std::size_t end = 64 + static_cast<std::size_t>(get_le<std::uint64_t>(b, 48));
  for (std::size_t at = 64; at < end;) {
    const std::size_t length = b[at];
    const std::string found(b.begin() + static_cast<long>(at + 1),
                            b.begin() + static_cast<long>(at + 1 + length));
    const std::size_t value = at + 2 + length;
    if (found == name) return value;
    at = value + sizes[b[value - 1]];
  }
  return 0;
}

/// Recomputes an index file's trailer CRC-32 (zlib, independently of the library) after a test
/// edited its bytes, so the load checks behind the checksum are reached.
inline void fix_checksum(Bytes& b) {
  const auto crc = ::crc32(0, b.data(), static_cast<uInt>(b.size() - 8));
  patch_le<std::uint32_t>(b, b.size() - 8, static_cast<std::uint32_t>(crc));
}

/// The index file `b` with its parameters block replaced by `block` (padded to 8 bytes) and the
/// header's parameter bytes, file bytes and the checksum fixed to match.
inline Bytes with_params_block(const Bytes& b, const Bytes& block) {
  const auto padded = [](std::size_t n) { return (n + 7) / 8 * 8; };
  const std::size_t old_end = 64 + padded(static_cast<std::size_t>(get_le<std::uint64_t>(b, 48)));
  Bytes out(b.begin(), b.begin() + 64);
  out.insert(out.end(), block.begin(), block.end());
  out.resize(64 + padded(block.size()), 0);
  out.insert(out.end(), b.begin() + static_cast<long>(old_end), b.end());
  patch_le<std::uint64_t>(out, 48, block.size());
  patch_le<std::uint64_t>(out, 16, out.size());
  fix_checksum(out);
  return out;
}

}  // namespace testing
