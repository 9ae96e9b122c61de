#include "catch_compat.hpp"

#include <string>

#include "file_util.hpp"
#include "pstable/io/vecs.hpp"

using namespace pstable;
using testing::Bytes;

namespace {

// `rows` vectors of `dim` values each, vector i holding i*10 + j, written as fvecs/ivecs/bvecs.
enum class Kind { f, i, b };
Bytes vecs(Kind kind, int rows, int dim) {
  Bytes out;
  for (int i = 0; i < rows; ++i) {
    testing::put_le<std::int32_t>(out, dim);
    for (int j = 0; j < dim; ++j) {
      const int v = i * 10 + j;
      if (kind == Kind::f) testing::put_f32(out, static_cast<float>(v) + 0.5f);
      if (kind == Kind::i) testing::put_le<std::int32_t>(out, -v);
      if (kind == Kind::b) out.push_back(static_cast<unsigned char>(v));
    }
  }
  return out;
}

std::string format_error(const std::string& path, Eigen::Index max_rows = -1) {
  try {
    (void)read_fvecs<float>(path, max_rows);
  } catch (const FormatError& e) {
    return e.what();
  }
  FAIL("no FormatError");
  return {};
}

}  // namespace

TEST_CASE("fvecs, ivecs and bvecs are read row by row", "[vecs]") {
  testing::TempDir dir;
  testing::write_bytes(dir.file("a.fvecs"), vecs(Kind::f, 3, 4));
  const auto f = read_fvecs<float>(dir.file("a.fvecs"));
  REQUIRE(f.rows() == 3);
  REQUIRE(f.cols() == 4);
  CHECK(f(0, 0) == 0.5f);
  CHECK(f(2, 3) == 23.5f);
  CHECK(read_fvecs<double>(dir.file("a.fvecs"))(1, 2) == 12.5);

  testing::write_bytes(dir.file("a.ivecs"), vecs(Kind::i, 2, 5));
  const auto i = read_ivecs(dir.file("a.ivecs"));
  REQUIRE(i.rows() == 2);
  REQUIRE(i.cols() == 5);
  CHECK(i(1, 4) == -14);

  testing::write_bytes(dir.file("a.bvecs"), vecs(Kind::b, 30, 3));
  const auto b = read_bvecs<float>(dir.file("a.bvecs"));
  REQUIRE(b.rows() == 30);
  CHECK(b(29, 2) == 292 % 256);
}

TEST_CASE("vecs max_rows reads a prefix", "[vecs]") {
  testing::TempDir dir;
  const auto path = dir.file("a.fvecs");
  testing::write_bytes(path, vecs(Kind::f, 5, 2));
  CHECK(read_fvecs<float>(path, 2).rows() == 2);
  CHECK(read_fvecs<float>(path, 2)(1, 1) == 11.5f);
  CHECK(read_fvecs<float>(path, 9).rows() == 5);
  CHECK(read_fvecs<float>(path, 0).rows() == 0);
  CHECK_THROWS_AS(read_fvecs<float>(path, -2), InvalidArgument);

  // A damaged tail does not matter when only the intact prefix is asked for.
  Bytes cut = vecs(Kind::f, 5, 2);
  cut.resize(cut.size() - 3);
  testing::write_bytes(path, cut);
  CHECK(read_fvecs<float>(path, 4).rows() == 4);
  CHECK_THAT(format_error(path, 5), Catch::Contains("truncated"));
}

TEST_CASE("bad vecs files are rejected", "[vecs]") {
  testing::TempDir dir;
  const auto path = dir.file("bad.fvecs");

  testing::write_bytes(path, {});
  CHECK(read_fvecs<float>(path).size() == 0);

  Bytes mixed = vecs(Kind::f, 2, 4);
  const Bytes other = vecs(Kind::f, 2, 3);
  mixed.insert(mixed.end(), other.begin(), other.end());  // 2 x 20 bytes + 2 x 16 bytes
  testing::write_bytes(path, mixed);
  CHECK_THAT(format_error(path), Catch::Contains("vector 2 has 3 dimensions, the first has 4"));

  const Bytes good = vecs(Kind::f, 3, 4);
  for (std::size_t n = 1; n < good.size(); ++n) {  // every cut, at vector boundaries or inside
    CAPTURE(n);
    testing::write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    if (n % 20 == 0) {
      CHECK(read_fvecs<float>(path).rows() == static_cast<Eigen::Index>(n / 20));
    } else {
      CHECK_THAT(format_error(path), Catch::Contains("truncated"));
    }
  }

  Bytes zero;
  testing::put_le<std::int32_t>(zero, 0);
  testing::write_bytes(path, zero);
  CHECK_THAT(format_error(path), Catch::Contains("dimension is 0"));

  Bytes huge;
  testing::put_le<std::int32_t>(huge, 0x7fffffff);  // would be 8 GB per vector
  testing::put_f32(huge, 1);
  testing::write_bytes(path, huge);
  CHECK_THAT(format_error(path), Catch::Contains("truncated"));

  CHECK_THROWS_AS(read_ivecs(dir.file("missing.ivecs")), IoError);
}
