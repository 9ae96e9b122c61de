#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// A file opened for reading, with its size known up front so that readers can check every
/// length they parse against the bytes really there before allocating anything.
/// Errors: IoError if it cannot be opened or read; FormatError when a read runs past the end.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw IoError(concat("cannot read '", path, "': it is a directory, not a file"));
    }
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw IoError(concat("cannot open '", path, "' for reading: ", std::strerror(errno)));
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
      std::fclose(file_);
      throw IoError(concat("cannot get the size of '", path, "': ", ec.message()));
    }
    size_ = static_cast<std::uint64_t>(size);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }

  const std::string& path() const noexcept { return path_; }
  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t position() const noexcept { return position_; }
  std::uint64_t remaining() const noexcept { return size_ - position_; }

  /// Reads exactly n bytes. `what` names them in the message if the file ends first.
  void read(void* out, std::size_t n, const char* what) {
    if (n > remaining()) {
      throw FormatError(concat("'", path_, "' is truncated: ", what, " needs ", n,
                               " bytes at offset ", position_, " but the file ends after ", size_,
                               " bytes; the file was cut short (interrupted copy or download?)"));
    }
    if (n == 0) return;
    const std::size_t got = std::fread(out, 1, n, file_);
    if (got != n) {
      if (std::ferror(file_)) {
        throw IoError(concat("error reading '", path_, "' at offset ", position_, ": ",
                             std::strerror(errno)));
      }
      throw FormatError(concat("'", path_, "' shrank while being read (offset ", position_ + got,
                               ")"));
    }
    position_ += n;
  }

  /// Moves to an absolute offset (at most size()).
  void seek(std::uint64_t offset) {
    if (offset > size_ || std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0) {
      throw IoError(concat("cannot seek to offset ", offset, " in '", path_, "'"));
    }
    position_ = offset;
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
};

/// a * b, or throws FormatError naming `what` if the product does not fit in 64 bits.
inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  if (a != 0 && b > UINT64_MAX / a) {
    throw FormatError(concat(what, ": ", a, " x ", b, " overflows 64 bits; the file is corrupted"));
  }
  return a * b;
}

}  // namespace pstable::detail
