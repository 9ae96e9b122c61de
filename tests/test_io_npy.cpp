#include "catch_compat.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "file_util.hpp"
#include "pstable/io/npy.hpp"

using namespace pstable;
using testing::Bytes;

namespace {

// A .npy file built byte by byte: preamble of format `major`, the dict, padding, then `data`.
Bytes npy(const std::string& descr, const std::string& shape, const Bytes& data, int major = 1,
          const std::string& order = "False") {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
  const std::size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  if (major == 1) {
    testing::put_le<std::uint16_t>(b, static_cast<std::uint16_t>(dict.size()));
  } else {
    testing::put_le<std::uint32_t>(b, static_cast<std::uint32_t>(dict.size()));
  }
  b.insert(b.end(), dict.begin(), dict.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes f32s(std::initializer_list<float> values) {
  Bytes b;
  for (float v : values) testing::put_f32(b, v);
  return b;
}

template <class U>
Bytes ints(std::initializer_list<U> values) {
  Bytes b;
  for (U v : values) testing::put_le(b, v);
  return b;
}

std::string format_error(const std::string& path, bool labels = false) {
  try {
    if (labels) {
      (void)read_npy_labels(path);
    } else {
      (void)read_npy<float>(path);
    }
  } catch (const FormatError& e) {
    return e.what();
  }
  FAIL("no FormatError");
  return {};
}

}  // namespace

TEST_CASE("npy float32 arrays of every header version", "[npy]") {
  testing::TempDir dir;
  const auto path = dir.file("a.npy");
  for (int major : {1, 2, 3}) {
    CAPTURE(major);
    testing::write_bytes(path, npy("<f4", "(2, 3)", f32s({1, 2, 3, 4, 5, 6.5f}), major));
    const auto m = read_npy<float>(path);
    REQUIRE(m.rows() == 2);
    REQUIRE(m.cols() == 3);
    CHECK(m(0, 0) == 1);
    CHECK(m(1, 0) == 4);  // C order: row after row
    CHECK(m(1, 2) == 6.5f);
    CHECK(read_npy<double>(path)(1, 2) == 6.5);
  }
}

TEST_CASE("npy float64, float16 and uint8 are converted", "[npy]") {
  testing::TempDir dir;
  const auto path = dir.file("a.npy");

  Bytes f64;
  for (double v : {0.1, -2.5}) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    testing::put_le(f64, bits);
  }
  testing::write_bytes(path, npy("<f8", "(1, 2)", f64));
  CHECK(read_npy<double>(path)(0, 0) == 0.1);
  CHECK(read_npy<float>(path)(0, 0) == 0.1f);
  CHECK(read_npy<double>(path)(0, 1) == -2.5);

  // Half floats: one, minus two, largest, smallest subnormal, smallest normal, 1/3, infinity, NaN.
  testing::write_bytes(
      path,
      npy("<f2", "(2, 4)",
          ints<std::uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0x7e00})));
  const auto h = read_npy<float>(path);
  CHECK(h(0, 0) == 1.0f);
  CHECK(h(0, 1) == -2.0f);
  CHECK(h(0, 2) == 65504.0f);
  CHECK(h(0, 3) == std::ldexp(1.0f, -24));
  CHECK(h(1, 0) == std::ldexp(1.0f, -14));
  CHECK(h(1, 1) == 0.333251953125f);
  CHECK(h(1, 2) == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(h(1, 3)));
  // Signs: minus zero, the most negative subnormal and normal, minus infinity.
  testing::write_bytes(path,
                       npy("<f2", "(1, 4)", ints<std::uint16_t>({0x8000, 0x8001, 0xfbff, 0xfc00})));
  const auto s = read_npy<double>(path);
  CHECK(s(0, 0) == 0.0);
  CHECK(std::signbit(s(0, 0)));
  CHECK(s(0, 1) == -std::ldexp(1.0, -24));
  CHECK(s(0, 2) == -65504.0);
  CHECK(s(0, 3) == -std::numeric_limits<double>::infinity());

  testing::write_bytes(path, npy("|u1", "(3, 1)", Bytes{0, 7, 255}));
  const auto u = read_npy<float>(path);
  CHECK(u.rows() == 3);
  CHECK(u(2, 0) == 255.0f);
}

TEST_CASE("npy 1-D arrays are one point; empty arrays are empty", "[npy]") {
  testing::TempDir dir;
  const auto path = dir.file("a.npy");
  testing::write_bytes(path, npy("<f4", "(3,)", f32s({1, 2, 3})));
  const auto m = read_npy<float>(path);
  CHECK(m.rows() == 1);
  CHECK(m.cols() == 3);
  testing::write_bytes(path, npy("<f4", "(0, 5)", {}));
  CHECK(read_npy<float>(path).rows() == 0);
  testing::write_bytes(path, npy("<f4", "(2L, 1L)", f32s({1, 2})));  // Python 2 writer
  CHECK(read_npy<float>(path).rows() == 2);
}

TEST_CASE("write_npy round trips and writes what numpy writes", "[npy]") {
  testing::TempDir dir;
  RowMatrix<double> m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  write_npy<double>(dir.file("d.npy"), m);
  CHECK(read_npy<double>(dir.file("d.npy")) == m);
  const Bytes b = testing::read_bytes(dir.file("d.npy"));
  REQUIRE(b.size() == 128 + 48);  // numpy's layout: data 64-byte aligned, 6 doubles
  CHECK(b == npy("<f8", "(2, 3)", Bytes(b.end() - 48, b.end())));

  const RowMatrix<float> f = m.cast<float>();
  write_npy<float>(dir.file("f.npy"), f);
  CHECK(read_npy<float>(dir.file("f.npy")) == f);

  write_npy_labels(dir.file("l.npy"), {3, -1, 7});
  CHECK(read_npy_labels(dir.file("l.npy")) == std::vector<std::int32_t>{3, -1, 7});
  CHECK(dir.list().size() == 3);  // no temporaries
}

TEST_CASE("npy labels: int32, int64, uint8, 1-D or one column", "[npy]") {
  testing::TempDir dir;
  const auto path = dir.file("l.npy");
  testing::write_bytes(path, npy("<i4", "(3,)", ints<std::int32_t>({0, -4, 9})));
  CHECK(read_npy_labels(path) == std::vector<std::int32_t>{0, -4, 9});
  testing::write_bytes(path, npy("<i8", "(2, 1)", ints<std::int64_t>({5, 6})));
  CHECK(read_npy_labels(path) == std::vector<std::int32_t>{5, 6});
  testing::write_bytes(path, npy("|u1", "(2,)", Bytes{200, 1}));
  CHECK(read_npy_labels(path) == std::vector<std::int32_t>{200, 1});

  testing::write_bytes(path, npy("<i8", "(1,)", ints<std::int64_t>({std::int64_t(1) << 40})));
  CHECK_THAT(format_error(path, true), Catch::Contains("outside the int32 range"));
  testing::write_bytes(path, npy("<f4", "(1,)", f32s({1})));
  CHECK_THAT(format_error(path, true), Catch::Contains("labels must be int32, int64 or uint8"));
  testing::write_bytes(path, npy("<i4", "(1, 2)", ints<std::int32_t>({1, 2})));
  CHECK_THAT(format_error(path, true), Catch::Contains("labels must be 1-D"));
  testing::write_bytes(path, npy("<i4", "(2,)", ints<std::int32_t>({1, 2})));
  CHECK_THAT(format_error(path), Catch::Contains("read_npy_labels"));
}

TEST_CASE("unsupported and malformed npy files are rejected clearly", "[npy]") {
  testing::TempDir dir;
  const auto path = dir.file("bad.npy");
  auto error_for = [&](const Bytes& b) {
    testing::write_bytes(path, b);
    return format_error(path);
  };
  CHECK_THAT(error_for(npy("<f4", "(1, 2)", f32s({1, 2}), 1, "True")), Catch::Contains("Fortran"));
  CHECK_THAT(error_for(npy(">f4", "(1, 1)", Bytes{0, 0, 0, 0})), Catch::Contains("big-endian"));
  CHECK_THAT(error_for(npy("<c8", "(1, 1)", Bytes(8))), Catch::Contains("not supported"));
  CHECK_THAT(error_for(npy("<f4", "(1, 1, 1)", f32s({1}))), Catch::Contains("3-D"));
  CHECK_THAT(error_for(npy("<f4", "()", f32s({1}))), Catch::Contains("0-D"));
  CHECK_THAT(error_for(npy("<f4", "(2, 2)", f32s({1, 2, 3}))), Catch::Contains("truncated"));
  CHECK_THAT(error_for(npy("<f4", "(1, 1)", f32s({1, 2}))),
             Catch::Contains("bytes after the data"));
  CHECK_THAT(error_for(npy("<f4", "(1000000000, 1000000)", f32s({1}))),
             Catch::Contains("truncated"));
  CHECK_THAT(error_for(npy("<f4", "(18446744073709551615, 3)", f32s({1}))),
             Catch::Contains("more than 2^62"));
  CHECK_THAT(error_for(npy("<f4", "(4611686018427387904, 4611686018427387904)", f32s({1}))),
             Catch::Contains("overflows"));
  CHECK_THAT(error_for(Bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}),
             Catch::Contains("not a .npy file"));
  CHECK_THAT(error_for(Bytes{0x93, 'N', 'U'}), Catch::Contains("not a .npy file"));

  Bytes v4 = npy("<f4", "(1, 1)", f32s({1}));
  v4[6] = 4;
  CHECK_THAT(error_for(v4), Catch::Contains("format version 4.0"));

  const Bytes good = npy("<f4", "(2, 2)", f32s({1, 2, 3, 4}));
  for (std::size_t n = 0; n < good.size(); ++n) {  // every prefix fails cleanly
    CAPTURE(n);
    testing::write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    CHECK_THROWS_AS(read_npy<float>(path), FormatError);
  }
  std::string broken = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1) ";
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  testing::put_le<std::uint16_t>(b, static_cast<std::uint16_t>(broken.size()));
  b.insert(b.end(), broken.begin(), broken.end());
  CHECK_THAT(error_for(b), Catch::Contains("malformed header"));

  CHECK_THROWS_AS(read_npy<float>(dir.file("missing.npy")), IoError);
}
