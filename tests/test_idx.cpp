// The IDX reader against small files written here, gzip-compressed and plain, good and broken.
#include "catch_compat.hpp"

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "pstable/io/idx.hpp"

using namespace pstable;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

// A scratch folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("pstable_idx_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Bytes idx(unsigned char type, const std::vector<std::uint32_t>& dims, const Bytes& values) {
  Bytes out = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<unsigned char>(d >> shift));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  gzclose(f);
}

// Three 2 x 3 images with pixel values 0, 10, 20, ..., 170 and labels 7, 0, 9.
Bytes pixels() {
  Bytes v;
  for (int i = 0; i < 18; ++i) v.push_back(static_cast<unsigned char>(10 * i));
  return v;
}

}  // namespace

TEST_CASE("IDX images and labels read from gzip and plain files", "[io][idx]") {
  TempDir dir;
  const bool gzip = GENERATE(true, false);
  CAPTURE(gzip);
  const auto write = gzip ? write_gzip : write_plain;
  const auto images_path = dir.file(gzip ? "images.gz" : "images");
  const auto labels_path = dir.file(gzip ? "labels.gz" : "labels");
  write(images_path, idx(0x08, {3, 2, 3}, pixels()));
  write(labels_path, idx(0x08, {3}, {7, 0, 9}));

  const RowMatrix<double> raw = read_idx_images<double>(images_path, false);
  REQUIRE(raw.rows() == 3);
  REQUIRE(raw.cols() == 6);
  CHECK(raw(0, 0) == 0.0);
  CHECK(raw(0, 5) == 50.0);  // row-major pixels: image 0 holds values 0..5
  CHECK(raw(1, 0) == 60.0);
  CHECK(raw(2, 5) == 170.0);

  const RowMatrix<float> scaled = read_idx_images<float>(images_path);
  CHECK(scaled(2, 5) == Approx(170.0f / 255.0f));
  CHECK(scaled.maxCoeff() <= 1.0f);
  CHECK(scaled.minCoeff() >= 0.0f);

  CHECK(read_idx_labels(labels_path) == std::vector<int>{7, 0, 9});
}

TEST_CASE("an IDX file with no items gives an empty matrix", "[io][idx]") {
  TempDir dir;
  write_gzip(dir.file("empty.gz"), idx(0x08, {0, 28, 28}, {}));
  const auto images = read_idx_images<float>(dir.file("empty.gz"));
  CHECK(images.rows() == 0);
  CHECK(images.cols() == 784);
}

TEST_CASE("broken IDX files throw FormatError or IoError with a clear message",
          "[io][idx][errors]") {
  TempDir dir;
  const bool gzip = GENERATE(true, false);
  CAPTURE(gzip);
  const auto write = gzip ? write_gzip : write_plain;
  const auto path = dir.file("bad");

  SECTION("missing file") {
    CHECK_THROWS_AS(read_idx_images<float>(dir.file("nope.gz")), IoError);
    CHECK_THROWS_WITH(read_idx_labels(dir.file("nope.gz")),
                      Catch::Contains("cannot open") && Catch::Contains("nope.gz"));
  }
  SECTION("bad magic") {
    Bytes b = idx(0x08, {3, 2, 3}, pixels());
    b[0] = 0x1f;
    write(path, b);
    CHECK_THROWS_AS(read_idx_images<float>(path), FormatError);
    CHECK_THROWS_WITH(read_idx_images<float>(path), Catch::Contains("not an IDX file"));
  }
  SECTION("unsupported value type") {
    write(path, idx(0x0D, {3, 2, 3}, pixels()));  // 0x0D: float values
    CHECK_THROWS_WITH(read_idx_images<float>(path),
                      Catch::Contains("0xd") && Catch::Contains("unsigned bytes"));
  }
  SECTION("wrong number of dimensions") {
    write(path, idx(0x08, {18}, pixels()));
    CHECK_THROWS_AS(read_idx_images<float>(path), FormatError);
    CHECK_THROWS_WITH(read_idx_images<float>(path), Catch::Contains("1 dimensions"));
    write(path, idx(0x08, {3, 2, 3}, pixels()));
    CHECK_THROWS_WITH(read_idx_labels(path), Catch::Contains("3 dimensions"));
  }
  SECTION("truncated values") {
    Bytes b = idx(0x08, {3, 2, 3}, pixels());
    b.resize(b.size() - 4);
    write(path, b);
    CHECK_THROWS_AS(read_idx_images<float>(path), FormatError);
    CHECK_THROWS_WITH(read_idx_images<float>(path),
                      Catch::Contains("truncated") && Catch::Contains("18 values"));
  }
  SECTION("truncated header") {
    Bytes b = idx(0x08, {3, 2, 3}, pixels());
    b.resize(9);
    write(path, b);
    CHECK_THROWS_WITH(read_idx_images<float>(path), Catch::Contains("truncated"));
    write(path, Bytes{0, 0});
    CHECK_THROWS_WITH(read_idx_labels(path), Catch::Contains("too short"));
  }
  SECTION("extra data after the values") {
    Bytes b = idx(0x08, {3}, {1, 2, 3});
    b.push_back(4);
    write(path, b);
    CHECK_THROWS_WITH(read_idx_labels(path), Catch::Contains("past the 3 values"));
  }
  SECTION("a corrupt header declaring a huge file fails without allocating it") {
    write(path, idx(0x08, {60000, 60000, 60000}, pixels()));
    CHECK_THROWS_AS(read_idx_images<float>(path), FormatError);
    write(path, idx(0x08, {60000, 784, 1}, pixels()));
    CHECK_THROWS_WITH(read_idx_images<float>(path), Catch::Contains("truncated"));
  }
}

TEST_CASE("a truncated gzip stream is an error, not short data", "[io][idx][errors]") {
  TempDir dir;
  const auto full = dir.file("full.gz");
  write_gzip(full, idx(0x08, {3}, {1, 2, 3}));
  std::ifstream in(full, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() - 10);  // cut the CRC and length trailer and some of the data
  const auto cut = dir.file("cut.gz");
  std::ofstream(cut, std::ios::binary) << gz;
  CHECK_THROWS_AS(read_idx_labels(cut), IoError);
}
