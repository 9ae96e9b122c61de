#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "pstable/core/error.hpp"
#include "pstable/core/types.hpp"
#include "pstable/detail/atomic_file.hpp"
#include "pstable/detail/endian.hpp"
#include "pstable/detail/input_file.hpp"
#include "pstable/detail/validate.hpp"

// NumPy's .npy files (format versions 1.0, 2.0 and 3.0): "\x93NUMPY", version, header length,
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), },
// then the values in C order.

namespace pstable {
namespace detail {

/// The element types pstable reads: little-endian floats of 2, 4 and 8 bytes, integers of 4 and
/// 8 bytes, and bytes.
enum class NpyType { f2, f4, f8, i4, i8, u1 };

struct NpyHeader {
  NpyType type = NpyType::f4;
  std::string descr;
  std::vector<std::uint64_t> shape;
  std::uint64_t count = 1;  // product of shape
};

inline std::size_t npy_item_size(NpyType type) noexcept {
  switch (type) {
    case NpyType::f2: return 2;
    case NpyType::f4:
    case NpyType::i4: return 4;
    case NpyType::f8:
    case NpyType::i8: return 8;
    case NpyType::u1: return 1;
  }
  return 1;
}

/// Parses the header dict: string keys, and string, True/False or integer-tuple values.
class NpyDictParser {
 public:
  NpyDictParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      skip_space();
      if (key == "descr") {
        header.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (parse_bool()) {
          fail(
              "the array is stored in Fortran (column-major) order; save "
              "np.ascontiguousarray(a) instead");
        }
        have_order = true;
      } else if (key == "shape") {
        header.shape = parse_tuple();
        have_shape = true;
      } else {
        fail(concat("unexpected key '", key, "' in the header"));
      }
      skip_space();
      if (peek() == ',') ++i_;
    }
    ++i_;  // the closing brace
    if (!have_descr || !have_order || !have_shape) {
      fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    }
    // numpy pads the header with spaces and ends it with a newline; anything else after the
    // dict means the header is not what it seems.
    skip_space();
    if (i_ != s_.size()) {
      fail(concat("the header has ", s_.size() - i_, " unexpected bytes after its dict (at offset ",
                  i_, ")"));
    }
    return header;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(concat("'", path_, "' is not a readable .npy file: ", what));
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(concat("malformed header dict (expected '", c, "' at ", i_, ")"));
    ++i_;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      fail(concat("malformed header dict (expected a string at ", i_, ")"));
    const auto end = s_.find(quote, i_ + 1);
    if (end == std::string::npos) fail("malformed header dict (unterminated string)");
    std::string value = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return value;
  }
  bool parse_bool() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    fail("malformed header dict (fortran_order is neither True nor False)");
  }
  std::vector<std::uint64_t> parse_tuple() {
    std::vector<std::uint64_t> values;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("malformed shape in the header");
      std::uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const auto digit = static_cast<std::uint64_t>(s_[i_++] - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("shape overflows");
        v = v * 10 + digit;
      }
      if (peek() == 'L') ++i_;  // Python 2 longs
      values.push_back(v);
      skip_space();
      if (peek() == ',')
        ++i_;
      else if (peek() != ')')
        fail("malformed shape in the header");
    }
    ++i_;
    return values;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

/// The largest extent a .npy shape may declare (sizes are signed 64-bit in Eigen).
inline constexpr std::uint64_t kNpyMaxExtent = std::uint64_t{1} << 62;

/// Reads the preamble and header; leaves `file` at the first data byte after checking that the
/// data has exactly the size the shape implies.
inline NpyHeader read_npy_header(InputFile& file) {
  const std::string& path = file.path();
  unsigned char magic[8];
  if (file.size() < 8 ||
      (file.read(magic, 8, "the .npy preamble"), std::memcmp(magic, "\x93NUMPY", 6) != 0)) {
    throw FormatError(
        concat("'", path, "' is not a .npy file (it does not start with \\x93NUMPY)"));
  }
  const int major = magic[6];
  const int minor = magic[7];
  if (minor != 0) {
    throw FormatError(concat("'", path, "' is a .npy file of format version ", major, ".", minor,
                             "; pstable reads versions 1.0, 2.0 and 3.0"));
  }
  std::uint64_t header_bytes = 0;
  if (major == 1) {
    unsigned char b[2];
    file.read(b, 2, "the .npy header length");
    header_bytes = load_le<std::uint16_t>(b);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    file.read(b, 4, "the .npy header length");
    header_bytes = load_le<std::uint32_t>(b);
  } else {
    throw FormatError(concat("'", path, "' is a .npy file of format version ", major, ".",
                             int(magic[7]), "; pstable reads versions 1.0, 2.0 and 3.0"));
  }
  if (header_bytes > file.remaining()) {
    throw FormatError(concat("'", path, "' is truncated: its .npy header needs ", header_bytes,
                             " bytes, the file has ", file.remaining(), " after the preamble"));
  }
  std::string text(static_cast<std::size_t>(header_bytes), '\0');
  file.read(text.data(), text.size(), "the .npy header");
  NpyDictParser parser(text, path);
  NpyHeader header = parser.parse();

  const std::string& d = header.descr;
  if (d.size() >= 2 && d[0] == '>' && d.substr(1) != "u1" && d.substr(1) != "i1") {
    parser.fail(concat("big-endian data ('", d, "') is not supported; convert it with a.astype('<",
                       d.substr(1), "')"));
  }
  const std::string code =
      d.size() >= 2 && (d[0] == '<' || d[0] == '|' || d[0] == '=') ? d.substr(1) : d;
  if (code == "f2")
    header.type = NpyType::f2;
  else if (code == "f4")
    header.type = NpyType::f4;
  else if (code == "f8")
    header.type = NpyType::f8;
  else if (code == "i4")
    header.type = NpyType::i4;
  else if (code == "i8")
    header.type = NpyType::i8;
  else if (code == "u1")
    header.type = NpyType::u1;
  else
    parser.fail(concat("dtype '", d, "' is not supported; use float16/32/64, int32/64 or uint8"));

  for (const auto extent : header.shape) {
    // Each extent becomes a signed Eigen size: bound it even when another extent is 0.
    if (extent > kNpyMaxExtent) {
      parser.fail(concat("a dimension of its shape is ", extent, ", more than 2^62"));
    }
    header.count = checked_mul(header.count, extent, concat("'", path, "' shape"));
  }
  const std::uint64_t bytes =
      checked_mul(header.count, npy_item_size(header.type), concat("'", path, "' size"));
  if (bytes > file.remaining()) {
    throw FormatError(concat("'", path, "' is truncated: its shape needs ", bytes,
                             " bytes of data, the file has ", file.remaining(),
                             "; the file was cut short (interrupted copy or download?)"));
  }
  if (bytes < file.remaining()) {
    parser.fail(
        concat("it has ", file.remaining() - bytes, " bytes after the data its shape describes"));
  }
  return header;
}

/// Reads `count` values of the header's type and passes each to `put(index, value)`, converting
/// half floats to float.
template <class Put>
void read_npy_values(InputFile& file, NpyType type, std::uint64_t count, Put&& put) {
  const std::size_t item = npy_item_size(type);
  std::vector<unsigned char> chunk;
  constexpr std::uint64_t kChunkItems = 1 << 16;
  for (std::uint64_t done = 0; done < count; done += kChunkItems) {
    const auto n = static_cast<std::size_t>(std::min(kChunkItems, count - done));
    chunk.resize(n * item);
    file.read(chunk.data(), chunk.size(), "array data");
    const unsigned char* p = chunk.data();
    for (std::size_t i = 0; i < n; ++i, p += item) {
      const std::uint64_t at = done + i;
      switch (type) {
        case NpyType::f2:  // IEEE binary16: Eigen::half converts exactly (every half is a float)
          put(at,
              static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(load_le<std::uint16_t>(p))));
          break;
        case NpyType::f4: put(at, load_le<float>(p)); break;
        case NpyType::f8: put(at, load_le<double>(p)); break;
        case NpyType::i4: put(at, load_le<std::int32_t>(p)); break;
        case NpyType::i8: put(at, load_le<std::int64_t>(p)); break;
        case NpyType::u1: put(at, *p); break;
      }
    }
  }
}

inline void write_npy_file(const std::string& path, const char* descr, const std::string& shape,
                           const void* data, std::size_t bytes) {
  std::string dict =
      concat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape, ", }");
  // Pad with spaces so that the data starts at a multiple of 64 bytes, as numpy does.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  store_le<std::uint16_t>(preamble + 8, static_cast<std::uint16_t>(dict.size()));
  AtomicFileWriter file(path);
  file.write(preamble, sizeof preamble);
  file.write(dict.data(), dict.size());
  file.write(data, bytes);
  file.commit();
}

}  // namespace detail

/// Reads a .npy array of points: float32, float64, float16 (converted exactly) or uint8 values,
/// converted to T. A 2-D array (rows, cols) gives one point per row; a 1-D array (n,) gives ONE
/// point of n values (a 1 x n matrix). Throws FormatError for Fortran-ordered, big-endian,
/// other dtypes, 0-D or 3-D+ arrays, truncated or oversized files; IoError if unreadable.
template <class T>
RowMatrix<T> read_npy(const std::string& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "read_npy<float|double>");
  detail::InputFile file(path);
  const auto header = detail::read_npy_header(file);
  if (header.type == detail::NpyType::i4 || header.type == detail::NpyType::i8) {
    throw FormatError(detail::concat("'", path, "' holds integers ('", header.descr,
                                     "'); read_npy reads float or uint8 points, read_npy_labels "
                                     "reads integer labels"));
  }
  if (header.shape.empty() || header.shape.size() > 2) {
    throw FormatError(detail::concat("'", path, "' holds a ", header.shape.size(),
                                     "-D array; read_npy reads 2-D (rows, cols) or 1-D arrays"));
  }
  const auto rows = header.shape.size() == 2 ? header.shape[0] : 1;
  const auto cols = header.shape.back();
  RowMatrix<T> out(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  T* data = out.data();
  detail::read_npy_values(file, header.type, header.count,
                          [data](std::uint64_t i, auto v) { data[i] = static_cast<T>(v); });
  return out;
}

/// Reads integer labels from a 1-D (n,) or (n, 1) .npy array of int32, int64 or uint8.
/// Throws FormatError for other dtypes or shapes and for int64 values outside int32.
inline std::vector<std::int32_t> read_npy_labels(const std::string& path) {
  detail::InputFile file(path);
  const auto header = detail::read_npy_header(file);
  if (header.type != detail::NpyType::i4 && header.type != detail::NpyType::i8 &&
      header.type != detail::NpyType::u1) {
    throw FormatError(detail::concat("'", path, "' holds '", header.descr,
                                     "' values; labels must be int32, int64 or uint8"));
  }
  const bool column = header.shape.size() == 2 && header.shape[1] == 1;
  if (header.shape.size() != 1 && !column) {
    throw FormatError(detail::concat("'", path, "' holds a ", header.shape.size(),
                                     "-D array; labels must be 1-D (n,) or (n, 1)"));
  }
  std::vector<std::int32_t> labels(static_cast<std::size_t>(header.count));
  detail::read_npy_values(file, header.type, header.count, [&](std::uint64_t i, auto v) {
    if constexpr (std::is_same_v<decltype(v), std::int64_t>) {
      if (v < std::numeric_limits<std::int32_t>::min() ||
          v > std::numeric_limits<std::int32_t>::max()) {
        throw FormatError(detail::concat("'", path, "' label ", i, " is ", v,
                                         ", outside the int32 range of pstable labels"));
      }
    }
    labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(v);
  });
  return labels;
}

/// Writes `rows` as a 2-D C-order .npy array ('<f4' or '<f8', format 1.0) atomically.
template <class T>
void write_npy(const std::string& path, const MatrixRef<T>& rows) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "write_npy<float|double>");
  static_assert(detail::kHostLittleEndian, "write_npy writes the host's bytes: little-endian only");
  const RowMatrix<T> copy = rows;  // contiguous, whatever the strides of the view
  detail::write_npy_file(path, std::is_same_v<T, float> ? "<f4" : "<f8",
                         detail::concat("(", rows.rows(), ", ", rows.cols(), ")"), copy.data(),
                         static_cast<std::size_t>(copy.size()) * sizeof(T));
}

/// Writes labels as a 1-D '<i4' .npy array atomically.
inline void write_npy_labels(const std::string& path, const std::vector<std::int32_t>& labels) {
  static_assert(detail::kHostLittleEndian,
                "write_npy_labels writes the host's bytes: little-endian only");
  detail::write_npy_file(path, "<i4", detail::concat("(", labels.size(), ",)"), labels.data(),
                         labels.size() * sizeof(std::int32_t));
}

}  // namespace pstable
