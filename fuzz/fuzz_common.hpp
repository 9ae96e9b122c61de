#pragma once

// Shared by the fuzz targets: the readers take paths, so each input goes to a private file
// first; pstable::Error is the expected outcome of a bad input, any other exception is a finding.

#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "pstable/core/error.hpp"

namespace pstable::fuzz {

/// A per-process scratch path (in /dev/shm when it exists: no disk writes per execution).
inline const std::string& scratch_path(const char* suffix) {
  static const std::string path = [&] {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/pstable-fuzz-" + std::to_string(::getpid()) + suffix;
  }();
  return path;
}

/// Writes the input to `path`; aborts if it cannot (a broken setup, not a finding to minimise).
inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

/// Runs `f`; pstable errors are expected, anything else (std::bad_alloc, std::length_error, ...)
/// is reported as a crash.
template <class F>
void expect_pstable_errors_only(F&& f) {
  try {
    f();
  } catch (const pstable::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "non-pstable exception escaped: %s\n", e.what());
    std::abort();
  }
}

}  // namespace pstable::fuzz
