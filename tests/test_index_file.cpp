#include "catch_compat.hpp"
#include <zlib.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <stdexcept>

#include "test_data.hpp"
#include "file_util.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

using namespace pstable;
using testing::Bytes;
using testing::fix_checksum;
using testing::gaussian;

namespace {

template <class E>
std::string error_of(const std::string& path) {
  try {
    (void)pstable::load_index<ExactIndex<float, Euclidean>>(path);
  } catch (const E& e) {
    return e.what();
  }
  FAIL("load did not throw the expected exception type");
  return {};
}

std::string format_error(const std::string& path) { return error_of<FormatError>(path); }

// A small saved index: 5 float32 Euclidean points of 3 dimensions: header, parameters (next_id
// 1 + 7 + 1 + 8 and id_map 1 + 6 + 1 + 1 = 26 bytes, padded to 32), ROWS (16 + 60 + 4), DELS
// (16 + 5 + 3), IDMP (16), end (8): 224 bytes.
Bytes small_file(const testing::TempDir& dir) {
  ExactIndex<float, Euclidean> index(3);
  index.add(gaussian<float>(5, 3, 7));
  const auto path = dir.file("small.pst");
  pstable::save_index(index, path);
  return testing::read_bytes(path);
}

constexpr std::size_t kSectionStart = 64 + 32;  // after ExactIndex's parameters
constexpr std::size_t kRowsStart = kSectionStart + 16;

// An index type whose save throws midway, to test that failures leave no trace.
struct ExplodingIndex {
  Eigen::Index dim() const { return 2; }
  Eigen::Index size() const { return 1; }
};

// Writes an exact index file as format versions 1-3 did: no parameters, ROWS alone.
struct LegacyExact {
  RowMatrix<float> rows;
  Eigen::Index dim() const { return rows.cols(); }
  Eigen::Index size() const { return rows.rows(); }
};

}  // namespace

namespace pstable::detail {
template <>
struct IndexSerializer<ExplodingIndex> {
  using Scalar = float;
  using MetricType = Euclidean;
  static constexpr IndexKind kind = IndexKind::exact;
  static void save(const ExplodingIndex&, IndexFileWriter& out) {
    const float values[2] = {1, 2};
    out.section("ROWS", values, 2);
    throw std::runtime_error("simulated failure while writing");
  }
  static ExplodingIndex load(IndexFileReader&) { return {}; }
};
template <>
struct IndexSerializer<LegacyExact> {
  using Scalar = float;
  using MetricType = Euclidean;
  static constexpr IndexKind kind = IndexKind::exact;
  static void save(const LegacyExact& index, IndexFileWriter& out) {
    out.section("ROWS", index.rows.data(), static_cast<std::size_t>(index.rows.size()));
  }
};
}  // namespace pstable::detail

TEMPLATE_PRODUCT_TEST_CASE("saved exact indexes load bit-exact", "[file]", ExactIndex,
                           ((float, Euclidean), (float, Cosine), (float, InnerProduct),
                            (double, Euclidean), (double, Cosine), (double, InnerProduct))) {
  using T = typename TestType::Scalar;
  testing::TempDir dir;
  const auto data = gaussian<T>(300, 17, 1);
  const auto queries = gaussian<T>(40, 17, 2);  // >= kBatchThreshold: GEMM path
  const auto few = gaussian<T>(3, 17, 3);       // streaming path
  TestType index(17);
  index.add(data);
  const auto path = dir.file("index.pst");
  pstable::save_index(index, path);

  const auto loaded = pstable::load_index<TestType>(path);
  REQUIRE(loaded.dim() == 17);
  REQUIRE(loaded.size() == 300);
  CHECK(loaded.owns_data());
  CHECK(std::memcmp(loaded.data().data(), data.data(), sizeof(T) * 300 * 17) == 0);
  for (const auto* q : {&queries, &few}) {
    const auto a = index.search(*q, 10);
    const auto b = loaded.search(*q, 10);
    CHECK(a.ids() == b.ids());
    CHECK(std::memcmp(a.distances().data(), b.distances().data(),
                      sizeof(T) * static_cast<std::size_t>(a.distances().size())) == 0);
  }

  const auto info = read_index_file_info(path);
  CHECK(info.format_version == kIndexFormatVersion);
  CHECK(info.kind == IndexKind::exact);
  CHECK(info.scalar == detail::scalar_type_of<T>());
  CHECK(info.metric == detail::metric_kind_of<typename TestType::MetricType>());
  CHECK(info.dim == 17);
  CHECK(info.count == 300);
  CHECK(info.file_bytes == std::filesystem::file_size(path));
  CHECK(dir.list() == std::vector<std::string>{"index.pst"});  // no temporary left behind
}

TEST_CASE("index file layout matches docs/file-format.md", "[file]") {
  testing::TempDir dir;
  const Bytes b = small_file(dir);
  REQUIRE(b.size() == 224);
  CHECK(std::memcmp(b.data(), "PSTABLE\0", 8) == 0);
  CHECK(b[8] == kIndexFormatVersion);               // format version
  CHECK(b[12] == 64);                               // header bytes
  CHECK(b[16] == b.size());                         // file bytes
  CHECK((b[24] == 1 && b[25] == 1 && b[26] == 1));  // exact, float32, euclidean
  CHECK(b[28] == 3);                                // sections ROWS, DELS, IDMP
  CHECK(b[32] == 3);                                // dim
  CHECK(b[40] == 5);                                // count
  CHECK(b[48] == 26);                               // parameter bytes
  CHECK(b[64] == 7);                                // name length
  CHECK(std::memcmp(&b[65], "next_id", 7) == 0);    // name
  CHECK(b[72] == 4);                                // i64
  CHECK(b[73] == 5);                                // next_id
  CHECK(b[81] == 6);                                // name length
  CHECK(std::memcmp(&b[82], "id_map", 6) == 0);     // name
  CHECK(b[88] == 5);                                // u8
  CHECK(b[89] == 0);                                // no id map
  CHECK(std::memcmp(&b[kSectionStart], "ROWS", 4) == 0);
  CHECK(b[kSectionStart + 4] == 1);   // f32
  CHECK(b[kSectionStart + 8] == 15);  // values
  CHECK(std::memcmp(&b[kRowsStart + 64], "DELS", 4) == 0);
  CHECK(b[kRowsStart + 64 + 8] == 5);  // one tombstone per row
  CHECK(std::memcmp(&b[kRowsStart + 64 + 24], "IDMP", 4) == 0);
  CHECK(b[kRowsStart + 64 + 24 + 8] == 0);  // empty without an id map
  CHECK(std::memcmp(&b[b.size() - 4], "PEND", 4) == 0);
  const auto crc = ::crc32(0, b.data(), static_cast<uInt>(b.size() - 8));
  CHECK(b[b.size() - 8] == (crc & 0xff));
}

TEST_CASE("borrowed and empty indexes round trip", "[file]") {
  testing::TempDir dir;
  const auto data = gaussian<double>(20, 4, 5);
  const auto borrowed = ExactIndex<double, Cosine>::borrow(data.data(), 20, 4);
  pstable::save_index(borrowed, dir.file("b.pst"));
  const auto loaded = pstable::load_index<ExactIndex<double, Cosine>>(dir.file("b.pst"));
  CHECK(loaded.owns_data());
  CHECK(RowMatrix<double>(loaded.data()) == data);

  ExactIndex<float, InnerProduct> empty(9);
  pstable::save_index(empty, dir.file("e.pst"));
  const auto e = pstable::load_index<ExactIndex<float, InnerProduct>>(dir.file("e.pst"));
  CHECK(e.size() == 0);
  CHECK(e.dim() == 9);
}

TEST_CASE("saving over an existing file replaces it", "[file]") {
  testing::TempDir dir;
  const auto path = dir.file("i.pst");
  ExactIndex<float, Euclidean> a(2), b(2);
  a.add(gaussian<float>(3, 2, 1));
  b.add(gaussian<float>(8, 2, 2));
  pstable::save_index(a, path);
  pstable::save_index(b, path);
  CHECK(pstable::load_index<ExactIndex<float, Euclidean>>(path).size() == 8);
  CHECK(dir.list() == std::vector<std::string>{"i.pst"});
}

TEST_CASE("large sections stream through the writer", "[file]") {
  testing::TempDir dir;
  const auto data = gaussian<float>(300, 1024, 9);  // 1.2 MB: bigger than the write buffer
  ExactIndex<float, Euclidean> index(1024);
  index.add(data);
  pstable::save_index(index, dir.file("big.pst"));
  CHECK(RowMatrix<float>(
            pstable::load_index<ExactIndex<float, Euclidean>>(dir.file("big.pst")).data()) == data);
}

TEST_CASE("foreign, empty and truncated files are rejected", "[file]") {
  testing::TempDir dir;
  const Bytes good = small_file(dir);
  const auto path = dir.file("bad.pst");

  testing::write_bytes(path, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'});
  CHECK_THAT(format_error(path), Catch::Contains("not a pstable index file"));

  testing::write_bytes(path, Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0});
  CHECK_THAT(format_error(path), Catch::Contains("read_npy"));

  testing::write_bytes(path, Bytes{});
  CHECK_THAT(format_error(path), Catch::Contains("empty"));

  // Every prefix: inside the header, at the section boundaries, inside the data, no trailer.
  for (std::size_t n = 1; n < good.size(); ++n) {
    CAPTURE(n);
    testing::write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    CHECK_THAT(format_error(path), Catch::Contains("truncated"));
  }

  Bytes longer = good;
  longer.push_back(0);
  testing::write_bytes(path, longer);
  CHECK_THAT(format_error(path), Catch::Contains("appended"));
}

TEST_CASE("corrupted files fail the checksum", "[file]") {
  testing::TempDir dir;
  const Bytes good = small_file(dir);
  const auto path = dir.file("bad.pst");
  for (const std::size_t at :
       {kRowsStart, kRowsStart + 30, std::size_t(40), std::size_t(26), good.size() - 6}) {
    CAPTURE(at);
    Bytes b = good;
    b[at] ^= 0x10;
    testing::write_bytes(path, b);
    const auto message = format_error(path);
    CHECK_THAT(message, Catch::Contains("corrupted") && Catch::Contains("checksum mismatch"));
  }
  // Any single flipped byte anywhere is caught as some FormatError, never a crash or a load.
  for (std::size_t at = 0; at < good.size(); ++at) {
    CAPTURE(at);
    Bytes b = good;
    b[at] ^= 0x01;
    testing::write_bytes(path, b);
    CHECK_THROWS_AS((pstable::load_index<ExactIndex<float, Euclidean>>(path)), FormatError);
  }
}

TEST_CASE("named parameters are checked entry by entry", "[file]") {
  using Catch::Contains;
  testing::TempDir dir;
  const Bytes good = small_file(dir);
  const auto path = dir.file("crafted.pst");
  auto error_with = [&](const Bytes& block) {
    testing::write_bytes(path, testing::with_params_block(good, block));
    return format_error(path);
  };
  const std::uint8_t i64 = 4, u8 = 5;
  Bytes ok;
  testing::put_param(ok, "next_id", i64, std::uint64_t{5});
  testing::put_param(ok, "id_map", u8, std::uint8_t{0});
  REQUIRE(testing::with_params_block(good, ok) == good);  // the layout of the docs, bit for bit

  // In any order.
  Bytes b;
  testing::put_param(b, "id_map", u8, std::uint8_t{0});
  testing::put_param(b, "next_id", i64, std::uint64_t{5});
  testing::write_bytes(path, testing::with_params_block(good, b));
  CHECK(pstable::load_index<ExactIndex<float, Euclidean>>(path).next_id() == 5);

  b = ok;
  testing::put_param(b, "num_shards", i64, std::uint64_t{2});
  CHECK_THAT(error_with(b), Contains("unknown parameter 'num_shards' for an exact index") &&
                                Contains("upgrade pstable"));
  b = ok;
  testing::put_param(b, "id_map", u8, std::uint8_t{0});
  CHECK_THAT(error_with(b), Contains("parameter 'id_map' appears twice"));
  b.clear();
  testing::put_param(b, "next_id", u8, std::uint8_t{5});
  testing::put_param(b, "id_map", u8, std::uint8_t{0});
  CHECK_THAT(error_with(b), Contains("parameter 'next_id' is u8, expected i64"));
  b.clear();
  testing::put_param(b, "id_map", u8, std::uint8_t{0});
  CHECK_THAT(error_with(b), Contains("parameter 'next_id' is missing"));
  b = ok;
  testing::put_param(b, "Next-Id", u8, std::uint8_t{0});
  CHECK_THAT(error_with(b), Contains("parameter 3 has no valid name"));
  b = ok;
  b.push_back(0);  // an empty name
  CHECK_THAT(error_with(b), Contains("parameter 3 has no valid name"));
  b = ok;
  testing::put_param(b, "x", 9, std::uint8_t{0});
  CHECK_THAT(error_with(b), Contains("parameter 'x' has unknown element type 9"));
  b = ok;
  testing::put_param(b, "y", i64, std::uint32_t{0});  // 4 of its 8 bytes
  CHECK_THAT(error_with(b), Contains("parameter 'y' runs past the parameters block"));
  b = ok;
  b.push_back(1);
  b.push_back('z');
  CHECK_THAT(error_with(b), Contains("parameter 'z' has no element type"));
  b = ok;
  b.push_back(40);
  b.push_back('w');
  CHECK_THAT(error_with(b), Contains("a parameter name of 40 bytes runs past"));
}

TEST_CASE("files from a newer pstable are refused with an upgrade hint", "[file]") {
  testing::TempDir dir;
  Bytes b = small_file(dir);
  testing::patch_le<std::uint32_t>(b, 8, kIndexFormatVersion + 1);
  testing::write_bytes(dir.file("new.pst"), b);
  CHECK_THAT(format_error(dir.file("new.pst")),
             Catch::Contains(pstable::detail::concat(
                 "written by a newer pstable (format ", kIndexFormatVersion + 1,
                 "), this build reads up to ", kIndexFormatVersion, ": upgrade pstable")));
}

TEST_CASE("exact index files of format versions 1 to 3 still load", "[file]") {
  // Versions 1-3 wrote an exact index as ROWS alone, without parameters; version 4 added the
  // id sections. A file the way they wrote it, with each old version number, loads.
  testing::TempDir dir;
  const RowMatrix<float> rows = gaussian<float>(5, 3, 7);
  pstable::save_index(LegacyExact{rows}, dir.file("legacy.pst"));
  for (const std::uint32_t version : {1u, 2u, 3u}) {
    Bytes b = testing::read_bytes(dir.file("legacy.pst"));
    testing::patch_le<std::uint32_t>(b, 8, version);
    fix_checksum(b);
    testing::write_bytes(dir.file("old.pst"), b);
    CHECK(read_index_file_info(dir.file("old.pst")).format_version == version);
    for (const auto mode : {LoadMode::copy, LoadMode::map}) {
      const auto loaded =
          pstable::load_index<ExactIndex<float, Euclidean>>(dir.file("old.pst"), mode);
      CHECK(loaded.size() == 5);
      CHECK(loaded.next_id() == 5);
      CHECK(loaded.num_removed() == 0);
      CHECK(loaded.data() == rows);
    }
    // An old file with more sections than ROWS is refused, not half read.
    b = small_file(dir);
    testing::patch_le<std::uint32_t>(b, 8, version);
    fix_checksum(b);
    testing::write_bytes(dir.file("bad.pst"), b);
    CHECK_THROWS_AS((pstable::load_index<ExactIndex<float, Euclidean>>(dir.file("bad.pst"))),
                    FormatError);
  }
}

TEST_CASE("loading as the wrong type names the right one", "[file]") {
  testing::TempDir dir;
  ExactIndex<double, Cosine> index(2);
  index.add(gaussian<double>(4, 2, 1));
  pstable::save_index(index, dir.file("d.pst"));
  const auto message = format_error(dir.file("d.pst"));
  CHECK_THAT(message, Catch::Contains("holds a float64 cosine exact index; load it as "
                                      "ExactIndex<double, Cosine>"));
  CHECK_THROWS_AS((pstable::load_index<ExactIndex<double, Euclidean>>(dir.file("d.pst"))),
                  FormatError);
  CHECK_THROWS_AS((pstable::load_index<ExactIndex<float, Cosine>>(dir.file("d.pst"))), FormatError);
  CHECK_NOTHROW(pstable::load_index<ExactIndex<double, Cosine>>(dir.file("d.pst")));

  Bytes b = testing::read_bytes(dir.file("d.pst"));
  b[24] = 2;  // e2lsh
  fix_checksum(b);
  testing::write_bytes(dir.file("k.pst"), b);
  CHECK_THAT(format_error(dir.file("k.pst")),
             Catch::Contains("e2lsh index; load it as E2LSHIndex<double, Cosine>"));
}

TEST_CASE("lengths in files with a valid checksum are checked before allocating", "[file]") {
  testing::TempDir dir;
  const Bytes good = small_file(dir);
  const auto path = dir.file("crafted.pst");
  auto crafted = [&](std::size_t offset, std::uint64_t value) {
    Bytes b = good;
    testing::patch_le<std::uint64_t>(b, offset, value);
    fix_checksum(b);
    testing::write_bytes(path, b);
    return format_error(path);
  };
  CHECK_THAT(crafted(40, std::uint64_t(1) << 40),
             Catch::Contains("the header counts 1099511627776 points"));  // count
  CHECK_THAT(crafted(40, std::uint64_t(1) << 63), Catch::Contains("point count"));
  CHECK_THAT(crafted(32, std::uint64_t(1) << 30), Catch::Contains("ROWS holds 15 values"));  // dim
  CHECK_THAT(crafted(32, 0), Catch::Contains("dimension 0"));
  CHECK_THAT(crafted(kSectionStart + 8, std::uint64_t(1) << 40),
             Catch::Contains("declares 1099511627776 values"));  // section
  CHECK_THAT(crafted(kSectionStart + 8, ~std::uint64_t(0)), Catch::Contains("declares"));
  CHECK_THAT(crafted(48, 1000), Catch::Contains("parameters block"));

  Bytes b = good;
  b[25] = 9;
  fix_checksum(b);
  testing::write_bytes(path, b);
  CHECK_THAT(format_error(path), Catch::Contains("unknown scalar type 9"));

  b = good;
  std::memcpy(&b[kSectionStart], "NORM", 4);
  fix_checksum(b);
  testing::write_bytes(path, b);
  CHECK_THAT(format_error(path), Catch::Contains("expected section ROWS, found 'NORM'"));

  b = good;
  b[kSectionStart + 4] = 2;  // f64
  fix_checksum(b);
  testing::write_bytes(path, b);
  CHECK_THAT(format_error(path), Catch::Contains("holds f64 values, expected f32"));

  b = good;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&b[kRowsStart], &nan, 4);
  fix_checksum(b);
  testing::write_bytes(path, b);
  CHECK_THAT(format_error(path), Catch::Contains("rejects") && Catch::Contains("NaN"));
}

TEST_CASE("unreadable paths raise IoError", "[file]") {
  testing::TempDir dir;
  const auto missing = error_of<IoError>(dir.file("missing.pst"));
  CHECK_THAT(missing, Catch::Contains("cannot open"));
  CHECK_THROWS_AS((pstable::load_index<ExactIndex<float, Euclidean>>(dir.path().string())),
                  IoError);
}

TEST_CASE("a failed save keeps the previous file and leaves no temporary", "[file]") {
  testing::TempDir dir;
  const Bytes before = small_file(dir);
  const auto path = dir.file("small.pst");
  ExactIndex<float, Euclidean> other(3);
  other.add(gaussian<float>(50, 3, 8));

  SECTION("the serializer throws midway") {
    CHECK_THROWS_WITH(save_index(ExplodingIndex{}, path), "simulated failure while writing");
  }
  SECTION("the target is a directory") {
    std::filesystem::create_directory(dir.file("sub"));
    CHECK_THROWS_AS(pstable::save_index(other, dir.file("sub")), IoError);
    CHECK(std::filesystem::is_directory(dir.file("sub")));
    std::filesystem::remove(dir.file("sub"));
  }
  SECTION("the directory does not exist") {
    CHECK_THROWS_AS(pstable::save_index(other, dir.file("nowhere/x.pst")), IoError);
  }
  SECTION("the directory is not writable") {
    if (::geteuid() == 0) {
      WARN("running as root, which can write anywhere: skipped");
    } else {
      std::filesystem::permissions(
          dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
      CHECK_THROWS_AS(pstable::save_index(other, path), IoError);
      std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
    }
  }
  CHECK(testing::read_bytes(path) == before);
  CHECK(dir.list() == std::vector<std::string>{"small.pst"});
}
