#pragma once

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/validate.hpp"

namespace pstable {

namespace detail {

/// The raw content of an IDX file (the MNIST / Fashion-MNIST format): big-endian magic
/// 0x00 0x00 <type> <number of dimensions>, one big-endian uint32 per dimension, then the values.
struct IdxFile {
  std::vector<std::uint32_t> dims;
  std::vector<unsigned char> bytes;
};

/// Closes a gzFile on every path out of the reader.
class GzHandle {
 public:
  explicit GzHandle(gzFile file) noexcept : file_(file) {}
  GzHandle(const GzHandle&) = delete;
  GzHandle& operator=(const GzHandle&) = delete;
  ~GzHandle() {
    if (file_ != nullptr) gzclose(file_);
  }
  gzFile get() const noexcept { return file_; }

 private:
  gzFile file_;
};

// Throws for the error zlib recorded on `file`: FormatError for damaged or truncated compressed
// data, IoError for a failed system call.
[[noreturn]] inline void gz_fail(gzFile file, const std::string& path) {
  int code = 0;
  const char* message = gzerror(file, &code);
  if (code == Z_ERRNO) {
    throw IoError(concat("cannot read '", path, "': ", std::strerror(errno)));
  }
  if (code == Z_BUF_ERROR || code == Z_DATA_ERROR) {
    throw FormatError(concat("'", path, "' is a damaged or truncated gzip file (zlib: ", message,
                             "); download it again"));
  }
  throw IoError(concat("cannot read '", path, "': ", message));
}

// Reads up to `size` bytes; returns how many were read (fewer only at the end of the data).
inline std::size_t gz_read_some(gzFile file, unsigned char* out, std::size_t size,
                                const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    const auto want = static_cast<unsigned>(std::min(kChunk, size - done));
    const int got = gzread(file, out + done, want);
    if (got < 0) gz_fail(file, path);
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  // zlib returns what it could decompress of a stream cut short (no or a partial gzip trailer)
  // and only records the error: without this check a truncated .gz file would look complete.
  int code = Z_OK;
  gzerror(file, &code);
  if (code != Z_OK) gz_fail(file, path);
  return done;
}

/// The most values an IDX file may declare (1 TiB of bytes), in all and per item.
inline constexpr std::uint64_t kIdxMaxValues = std::uint64_t{1} << 40;

/// Reads an IDX file of unsigned bytes with `expected_dims` dimensions; gzip-compressed or plain
/// (zlib reads both). Throws IoError if the file cannot be opened or read, FormatError if its
/// content is not such a file.
inline IdxFile read_idx_bytes(const std::string& path, std::size_t expected_dims,
                              const char* kind) {
  std::uint64_t file_size = 0;
  int fd = -1;
  try {
    fd = open_regular_file(path, file_size);
  } catch (const IoError& e) {
    throw IoError(concat(e.what(), "; check the path (Fashion-MNIST: scripts/setup.sh data)"));
  }
  errno = 0;
  GzHandle file(gzdopen(fd, "rb"));
  if (file.get() == nullptr) {
    close_descriptor(fd);
    throw IoError(concat("cannot open '", path, "': out of memory"));
  }
  std::array<unsigned char, 4> magic{};
  if (gz_read_some(file.get(), magic.data(), magic.size(), path) != magic.size()) {
    throw FormatError(concat("'", path, "' is too short for an IDX file (no 4-byte magic)"));
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw FormatError(concat("'", path, "' is not an IDX file: its magic starts with bytes ",
                             int(magic[0]), ", ", int(magic[1]), " instead of 0, 0"));
  }
  if (magic[2] != 0x08) {
    throw FormatError(concat("'", path, "' holds IDX values of type 0x", std::hex, int(magic[2]),
                             "; only unsigned bytes (0x08) are supported"));
  }
  if (magic[3] != expected_dims) {
    throw FormatError(concat("'", path, "' has ", int(magic[3]), " dimensions; ", kind,
                             " files have ", expected_dims));
  }
  IdxFile out;
  std::vector<unsigned char> header(4 * expected_dims);
  if (gz_read_some(file.get(), header.data(), header.size(), path) != header.size()) {
    throw FormatError(concat("'", path, "' is truncated inside its header"));
  }
  // Every partial product of the dimensions is bounded (the size of one item first, then the
  // count times it), so a zero count cannot hide item sizes that overflow later arithmetic.
  std::uint64_t item = 1;
  for (std::size_t i = 0; i < expected_dims; ++i) {
    const std::uint32_t d =
        (std::uint32_t{header[4 * i]} << 24) | (std::uint32_t{header[4 * i + 1]} << 16) |
        (std::uint32_t{header[4 * i + 2]} << 8) | std::uint32_t{header[4 * i + 3]};
    out.dims.push_back(d);
    if (i > 0) {
      item *= d;
      if (item > kIdxMaxValues) {
        throw FormatError(
            concat("'", path, "' declares items of more than 2^40 values; the header is corrupt"));
      }
    }
  }
  if (out.dims[0] != 0 && item > kIdxMaxValues / out.dims[0]) {
    throw FormatError(concat("'", path, "' declares more than 2^40 values; the header is corrupt"));
  }
  const std::uint64_t total = std::uint64_t{out.dims[0]} * item;
  // Grow while reading, so a corrupt header cannot make us allocate what the file does not hold.
  const auto expected = static_cast<std::size_t>(total);
  std::size_t have = 0;
  while (have < expected) {
    const std::size_t step = std::min(expected - have, std::max<std::size_t>(have, 1 << 20));
    out.bytes.resize(have + step);
    const std::size_t got = gz_read_some(file.get(), out.bytes.data() + have, step, path);
    have += got;
    if (got < step) break;
  }
  if (have < expected) {
    throw FormatError(concat("'", path, "' is truncated: its header declares ", expected,
                             " values but it holds ", have, "; download it again"));
  }
  unsigned char extra = 0;
  if (gz_read_some(file.get(), &extra, 1, path) != 0) {
    throw FormatError(concat("'", path, "' has data past the ", expected,
                             " values its header declares; it is not a valid IDX file"));
  }
  return out;
}

}  // namespace detail

/// Reads an IDX image file (MNIST, Fashion-MNIST: `*-images-idx3-ubyte[.gz]`), gzip-compressed
/// or plain, into one image per row: n rows of rows x cols (784) columns, pixels in row-major
/// order. With `scale` the bytes 0..255 become values in [0, 1] (byte / 255), else they are
/// kept as 0..255. Throws IoError if the file is missing or unreadable, FormatError if it is not
/// a 3-dimensional IDX file of unsigned bytes or is truncated.
template <class T = float>
RowMatrix<T> read_idx_images(const std::string& path, bool scale = true) {
  static_assert(std::is_floating_point_v<T>, "read_idx_images reads into float or double");
  const auto file = detail::read_idx_bytes(path, 3, "image");
  const auto n = static_cast<Eigen::Index>(file.dims[0]);
  // read_idx_bytes bounded dims[1] x dims[2] by 2^40: no overflow.
  const auto cols = static_cast<Eigen::Index>(std::uint64_t{file.dims[1]} * file.dims[2]);
  if (n > 0 && cols == 0) {
    throw FormatError(detail::concat("'", path, "' declares images of ", file.dims[1], " x ",
                                     file.dims[2], " pixels; images must have at least one pixel"));
  }
  RowMatrix<T> images(n, cols);
  const T factor = scale ? T(1) / T(255) : T(1);
  T* out = images.data();
  for (std::size_t i = 0; i < file.bytes.size(); ++i)
    out[i] = static_cast<T>(file.bytes[i]) * factor;
  return images;
}

/// Reads an IDX label file (`*-labels-idx1-ubyte[.gz]`), gzip-compressed or plain: one label
/// (0..255) per item. Throws IoError if the file is missing or unreadable, FormatError if it is
/// not a 1-dimensional IDX file of unsigned bytes or is truncated.
inline std::vector<int> read_idx_labels(const std::string& path) {
  const auto file = detail::read_idx_bytes(path, 1, "label");
  return std::vector<int>(file.bytes.begin(), file.bytes.end());
}

}  // namespace pstable
