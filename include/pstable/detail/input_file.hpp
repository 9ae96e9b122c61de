#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

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

/// Throws InvalidArgument if `path` holds a NUL byte: the C library would silently cut the path
/// there and open (or, for a save, replace) another file than the one named.
inline void check_path(const std::string& path) {
  const auto nul = path.find('\0');
  if (nul != std::string::npos) {
    throw InvalidArgument(concat("the path '", path.substr(0, nul), "\\0...' holds a NUL byte at ",
                                 "offset ", nul, "; pass a path without NUL bytes"));
  }
}

/// Opens `path` for reading and returns its descriptor, after checking that it is a regular
/// file: a FIFO or device would block or never end, a directory cannot be read. The open does
/// not block (O_NONBLOCK, cleared afterwards). Throws InvalidArgument for a NUL in the path,
/// IoError otherwise. `size` receives the size the file system reports.
inline int open_regular_file(const std::string& path, std::uint64_t& size) {
  check_path(path);
#if defined(_WIN32)
  // Windows: the C runtime's descriptors; a directory fails to open, other non-files are refused.
  const int fd =
      ::_wopen(std::filesystem::path(path).wstring().c_str(), _O_RDONLY | _O_BINARY | _O_NOINHERIT);
  if (fd < 0) {
    throw IoError(concat("cannot open '", path, "' for reading: ", std::strerror(errno)));
  }
  struct ::_stat64 st {};
  if (::_fstat64(fd, &st) != 0) {
    const int error = errno;
    ::_close(fd);
    throw IoError(concat("cannot get the size of '", path, "': ", std::strerror(error)));
  }
  if ((st.st_mode & _S_IFMT) != _S_IFREG) {
    ::_close(fd);
    throw IoError(concat("cannot read '", path, "': it is not a regular file; pass the path of a ",
                         "file (copy a stream to a file first)"));
  }
  size = static_cast<std::uint64_t>(st.st_size);
  return fd;
#else
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw IoError(concat("cannot open '", path, "' for reading: ", std::strerror(errno)));
  }
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw IoError(concat("cannot get the size of '", path, "': ", std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    throw IoError(
        concat("cannot read '", path, "': it is ", kind,
               ", not a regular file; pass the path of a file (copy a stream to a file first)"));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    const int error = errno;
    ::close(fd);
    throw IoError(concat("cannot read '", path, "': ", std::strerror(error)));
  }
  size = static_cast<std::uint64_t>(st.st_size);
  return fd;
#endif
}

/// Closes a descriptor from open_regular_file.
inline void close_descriptor(int fd) noexcept {
#if defined(_WIN32)
  ::_close(fd);
#else
  ::close(fd);
#endif
}

/// A file opened for reading, with its size known up front so that readers can check every
/// length they parse against the bytes really there before allocating anything. Only regular
/// files are read, and only those whose reported size is their real size (a /proc file reports
/// 0 bytes yet has content: it is refused rather than read as empty).
/// Errors: InvalidArgument for a path holding a NUL byte; IoError if it cannot be opened or
/// read or is not a regular file; FormatError when a read runs past the end.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    const int fd = open_regular_file(path, size_);
#if defined(_WIN32)
    file_ = ::_fdopen(fd, "rb");
#else
    file_ = ::fdopen(fd, "rb");
#endif
    if (file_ == nullptr) {
      const int error = errno;
      close_descriptor(fd);
      throw IoError(concat("cannot open '", path, "' for reading: ", std::strerror(error)));
    }
    if (size_ == 0) {
      unsigned char probe = 0;
      if (std::fread(&probe, 1, 1, file_) != 0) {
        std::fclose(file_);
        file_ = nullptr;
        throw IoError(concat("cannot read '", path,
                             "': it reports a size of 0 bytes but has content ",
                             "(a /proc or other pseudo file?); copy it to a regular file first"));
      }
      std::clearerr(file_);
    }
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
      throw FormatError(
          concat("'", path_, "' shrank while being read (offset ", position_ + got, ")"));
    }
    position_ += n;
  }

  /// Moves to an absolute offset (at most size()).
  void seek(std::uint64_t offset) {
#if defined(_WIN32)
    const bool moved =
        offset <= size_ && ::_fseeki64(file_, static_cast<__int64>(offset), SEEK_SET) == 0;
#else
    const bool moved =
        offset <= size_ && ::fseeko(file_, static_cast<off_t>(offset), SEEK_SET) == 0;
#endif
    if (!moved) {
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
