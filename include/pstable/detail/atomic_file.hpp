#pragma once

#if defined(_WIN32)
// ---- Windows: the same AtomicFileWriter on the C runtime's file descriptors (_wopen, _write,
// _commit) and MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH), which replaces
// the target in one step (std::rename refuses to replace an existing file there). The POSIX
// implementation is in the #else branch below.

#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/stat.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#define PSTABLE_UNDEF_WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX  // windows.h must not define min/max macros (they break std::min and Eigen)
#define PSTABLE_UNDEF_NOMINMAX
#endif
#include <windows.h>
#ifdef PSTABLE_UNDEF_WIN32_LEAN_AND_MEAN
#undef WIN32_LEAN_AND_MEAN
#undef PSTABLE_UNDEF_WIN32_LEAN_AND_MEAN
#endif
#ifdef PSTABLE_UNDEF_NOMINMAX
#undef NOMINMAX
#undef PSTABLE_UNDEF_NOMINMAX
#endif

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// Writes a file so that readers see either the old content or the complete new one, never a
/// mix: bytes go to `<path>.tmp-<pid>-<n>` in the same directory, `commit` flushes them to disk
/// and moves the temporary over `path` with MoveFileExW (replace, write through). If the writer
/// is destroyed before `commit` (an exception), the temporary is deleted and `path` is untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
    std::error_code ec;
    if (path_.empty()) throw IoError("cannot write a file with an empty path");
    if (std::filesystem::is_directory(path_, ec)) {
      throw IoError(concat("cannot write '", path_, "': it is a directory; pass a file path"));
    }
    static std::atomic<unsigned> counter{0};
    temp_ = concat(path_, ".tmp-", ::_getpid(), "-", counter.fetch_add(1));
    fd_ = ::_wopen(wide(temp_).c_str(), _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY | _O_NOINHERIT,
                   _S_IREAD | _S_IWRITE);
    if (fd_ < 0) {
      throw IoError(concat("cannot create '", temp_, "' to save '", path_,
                           "': ", std::strerror(errno),
                           "; check that the directory exists and is writable"));
    }
    buffer_.reserve(kBufferBytes);
  }
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter() { discard(); }

  const std::string& path() const noexcept { return path_; }
  const std::string& temp_path() const noexcept { return temp_; }
  /// Bytes written so far.
  std::uint64_t position() const noexcept { return position_; }

  void write(const void* data, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (buffer_.size() + n > kBufferBytes) flush();
    if (n >= kBufferBytes) {
      write_fd(bytes, n, position_);
    } else {
      buffer_.insert(buffer_.end(), bytes, bytes + n);
    }
    position_ += n;
  }

  /// Overwrites bytes already written (at offset + n <= position()).
  void overwrite(std::uint64_t offset, const void* data, std::size_t n) {
    flush();
    write_fd(static_cast<const unsigned char*>(data), n, offset);
  }

  /// Makes the new content durable and visible under path(). Throws IoError (and keeps the old
  /// file) if any step fails.
  void commit() {
    flush();
    if (::_commit(fd_) != 0) fail("flush");
    const int fd = fd_;
    fd_ = -1;
    if (::_close(fd) != 0) fail("close");
    if (!::MoveFileExW(wide(temp_).c_str(), wide(path_).c_str(),
                       MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
      const auto reason = std::system_category().message(static_cast<int>(::GetLastError()));
      const auto message = concat("cannot move '", temp_, "' over '", path_, "': ", reason,
                                  "; the previous file, if any, is unchanged");
      discard();
      throw IoError(message);
    }
    committed_ = true;
  }

 private:
  static constexpr std::size_t kBufferBytes = std::size_t(1) << 20;

  static std::wstring wide(const std::string& path) {
    return std::filesystem::path(path).wstring();
  }

  void flush() {
    if (buffer_.empty()) return;
    write_fd(buffer_.data(), buffer_.size(), position_ - buffer_.size());
    buffer_.clear();
  }

  void write_fd(const unsigned char* bytes, std::size_t n, std::uint64_t offset) {
    if (::_lseeki64(fd_, static_cast<__int64>(offset), SEEK_SET) < 0) fail("seek in");
    while (n > 0) {
      const unsigned chunk =
          n > std::size_t{INT_MAX} ? unsigned{INT_MAX} : static_cast<unsigned>(n);
      const int done = ::_write(fd_, bytes, chunk);
      if (done <= 0) fail("write");
      bytes += done;
      n -= static_cast<std::size_t>(done);
    }
  }

  [[noreturn]] void fail(const char* step) {
    const auto message =
        concat("cannot ", step, " '", temp_, "' while saving '", path_, "': ", std::strerror(errno),
               "; the previous file, if any, is unchanged");
    discard();
    throw IoError(message);
  }

  void discard() noexcept {
    if (fd_ >= 0) {
      ::_close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !temp_.empty()) {
      try {
        ::_wunlink(wide(temp_).c_str());
      } catch (...) {  // a path that cannot be converted: nothing was created under it
      }
      temp_.clear();
    }
  }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t position_ = 0;
  std::vector<unsigned char> buffer_;
};

}  // namespace pstable::detail

#else  // ---- POSIX

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// True if `name` is `<target>.tmp-<pid>-<n>` (pid and n decimal) and stores the pid.
inline bool parse_temp_name(const std::string& name, const std::string& target, long long& pid) {
  const std::string prefix = target + ".tmp-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  std::size_t i = prefix.size();
  const auto digits = [&](long long* value) {
    const std::size_t start = i;
    long long v = 0;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
      if (i - start >= 18) return false;  // no pid has 19 digits; avoids overflow
      v = v * 10 + (name[i++] - '0');
    }
    if (value != nullptr) *value = v;
    return i > start;
  };
  if (!digits(&pid) || i >= name.size() || name[i++] != '-' || !digits(nullptr)) return false;
  return i == name.size() && pid > 0;
}

/// Deletes the temporaries `<path>.tmp-<pid>-<n>` that writers killed before their commit (kill -9,
/// power loss) left beside `path`: only names of exactly that pattern for this target, and only
/// when no process `pid` exists (kill(pid, 0) fails with ESRCH). The temporaries of live writers,
/// this process's own, and those of a pid now reused by another process are left alone (the last
/// ones are reclaimed by a later save). Best effort: errors are ignored. Returns how many it
/// deleted.
inline std::size_t reclaim_dead_temporaries(const std::string& path) {
  const std::filesystem::path target(path);
  const std::string name = target.filename().string();
  if (name.empty()) return 0;
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  std::size_t deleted = 0;
  const long long self = static_cast<long long>(::getpid());
  while (const ::dirent* entry = ::readdir(d)) {
    long long pid = 0;
    if (!parse_temp_name(entry->d_name, name, pid) || pid == self) continue;
    if (pid > static_cast<long long>(std::numeric_limits< ::pid_t>::max())) continue;
    if (::kill(static_cast< ::pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive or unknown
    if (::unlink((dir / entry->d_name).c_str()) == 0) ++deleted;
  }
  ::closedir(d);
  return deleted;
}

/// Writes a file so that readers see either the old content or the complete new one, never a
/// mix: bytes go to `<path>.tmp-<pid>-<n>` in the same directory, `commit` flushes them, fsyncs,
/// and renames the temporary over `path` (atomic on POSIX file systems). If the writer is
/// destroyed before `commit` (an exception), the temporary is deleted and `path` is untouched.
/// A writer killed before its commit cannot delete its temporary: each new writer first
/// reclaims those of dead processes (reclaim_dead_temporaries), so they do not accumulate.
/// POSIX only (open/write/fsync/rename).
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
    std::error_code ec;
    if (path_.empty()) throw IoError("cannot write a file with an empty path");
    check_path(path_);
    if (std::filesystem::is_directory(path_, ec)) {
      throw IoError(concat("cannot write '", path_, "': it is a directory; pass a file path"));
    }
    reclaim_dead_temporaries(path_);
    static std::atomic<unsigned> counter{0};
    temp_ = concat(path_, ".tmp-", ::getpid(), "-", counter.fetch_add(1));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      throw IoError(concat("cannot create '", temp_, "' to save '", path_,
                           "': ", std::strerror(errno),
                           "; check that the directory exists and is writable"));
    }
    buffer_.reserve(kBufferBytes);
  }
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter() { discard(); }

  const std::string& path() const noexcept { return path_; }
  const std::string& temp_path() const noexcept { return temp_; }
  /// Bytes written so far.
  std::uint64_t position() const noexcept { return position_; }

  void write(const void* data, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (buffer_.size() + n > kBufferBytes) flush();
    if (n >= kBufferBytes) {
      write_fd(bytes, n, position_);
    } else {
      buffer_.insert(buffer_.end(), bytes, bytes + n);
    }
    position_ += n;
  }

  /// Overwrites bytes already written (at offset + n <= position()).
  void overwrite(std::uint64_t offset, const void* data, std::size_t n) {
    flush();
    write_fd(static_cast<const unsigned char*>(data), n, offset);
  }

  /// Makes the new content durable and visible under path(). Throws IoError (and keeps the old
  /// file) if any step fails.
  void commit() {
    flush();
    if (::fsync(fd_) != 0) fail("flush");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close");
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
      const auto message =
          concat("cannot rename '", temp_, "' to '", path_, "': ", std::strerror(errno),
                 "; the previous file, if any, is unchanged");
      discard();
      throw IoError(message);
    }
    committed_ = true;
    sync_directory();
  }

 private:
  static constexpr std::size_t kBufferBytes = std::size_t(1) << 20;

  void flush() {
    if (buffer_.empty()) return;
    write_fd(buffer_.data(), buffer_.size(), position_ - buffer_.size());
    buffer_.clear();
  }

  void write_fd(const unsigned char* bytes, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
      const ::ssize_t done = ::pwrite(fd_, bytes, n, static_cast< ::off_t>(offset));
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) fail("write");
      bytes += done;
      offset += static_cast<std::uint64_t>(done);
      n -= static_cast<std::size_t>(done);
    }
  }

  [[noreturn]] void fail(const char* step) {
    const auto message =
        concat("cannot ", step, " '", temp_, "' while saving '", path_, "': ", std::strerror(errno),
               "; the previous file, if any, is unchanged");
    discard();
    throw IoError(message);
  }

  void discard() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

  // Persists the rename itself; best effort (some file systems refuse to open directories).
  void sync_directory() noexcept {
    auto dir = std::filesystem::path(path_).parent_path();
    if (dir.empty()) dir = ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t position_ = 0;
  std::vector<unsigned char> buffer_;
};

}  // namespace pstable::detail

#endif  // _WIN32
