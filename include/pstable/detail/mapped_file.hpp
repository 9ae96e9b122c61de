#pragma once

#if defined(_WIN32)
#include <io.h>

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
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

#include "pstable/core/error.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable::detail {

/// A whole regular file mapped read-only into memory (mmap on POSIX, MapViewOfFile on Windows).
/// Processes mapping one file share its pages through the page cache. Held by shared_ptr: an
/// index that reads arrays in place keeps the mapping alive, and the mapping is unmapped when
/// the last holder goes. The descriptor is closed once the file is mapped: on POSIX the file may
/// then be unlinked or replaced by rename (save_index does that) while the mapping still reads
/// the old content; on Windows it cannot be deleted or replaced while mapped. The file must not
/// be truncated or rewritten in place while mapped: the system would deliver SIGBUS (or an
/// access violation) on a read past its new end.
/// Errors as InputFile: InvalidArgument for a NUL in the path, IoError otherwise.
class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::string& path) {
    return std::shared_ptr<const MappedFile>(new MappedFile(path));
  }

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ == nullptr) return;
#if defined(_WIN32)
    ::UnmapViewOfFile(data_);
#else
    ::munmap(data_, static_cast<std::size_t>(size_));
#endif
  }

  const std::string& path() const noexcept { return path_; }
  /// The file's bytes (nullptr for an empty file).
  const unsigned char* data() const noexcept { return static_cast<const unsigned char*>(data_); }
  std::uint64_t size() const noexcept { return size_; }

 private:
  explicit MappedFile(const std::string& path) : path_(path) {
    const int fd = open_regular_file(path, size_);
    try {
      map(fd);
    } catch (...) {
      close_descriptor(fd);
      throw;
    }
    close_descriptor(fd);  // the mapping keeps the file's content
  }

  void map(int fd) {
    if constexpr (sizeof(std::size_t) < sizeof(std::uint64_t)) {
      if (size_ > SIZE_MAX) {
        throw IoError(concat("cannot map '", path_, "': its ", size_,
                             " bytes exceed this process's address space"));
      }
    }
    if (size_ == 0) {  // nothing to map; refuse pseudo files that report 0 bytes yet have content
      unsigned char probe = 0;
#if defined(_WIN32)
      const bool content = ::_read(fd, &probe, 1) > 0;
#else
      const bool content = ::read(fd, &probe, 1) > 0;
#endif
      if (content) {
        throw IoError(concat("cannot map '", path_,
                             "': it reports a size of 0 bytes but has content ",
                             "(a /proc or other pseudo file?); copy it to a regular file first"));
      }
      return;
    }
#if defined(_WIN32)
    const auto file = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
    HANDLE section = ::CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (section == nullptr) fail(::GetLastError());
    data_ = ::MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
    const DWORD error = ::GetLastError();
    ::CloseHandle(section);  // the view keeps the section
    if (data_ == nullptr) fail(error);
#else
    int flags = MAP_SHARED;
#if defined(MAP_POPULATE)
    flags |= MAP_POPULATE;  // loading reads every byte (the checksum): fault the pages in at once
#endif
    void* p = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ, flags, fd, 0);
    if (p == MAP_FAILED) fail(errno);
    data_ = p;
#endif
  }

  template <class Code>
  [[noreturn]] void fail(Code code) const {
    throw IoError(concat("cannot map '", path_,
                         "' into memory: ", std::system_category().message(static_cast<int>(code)),
                         "; load it without mapping (LoadMode::copy, mmap=False)"));
  }

  std::string path_;
  std::uint64_t size_ = 0;
  void* data_ = nullptr;
};

}  // namespace pstable::detail
