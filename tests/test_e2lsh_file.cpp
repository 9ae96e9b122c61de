#include "catch_compat.hpp"
#include <zlib.h>

#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_data.hpp"
#include "file_util.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

using namespace pstable;
using testing::Bytes;
using testing::fix_checksum;
using testing::gaussian;

namespace {

template <class Index>
std::string format_error(const std::string& path) {
  try {
    (void)pstable::load_index<Index>(path);
  } catch (const FormatError& e) {
    return e.what();
  }
  FAIL("load did not throw FormatError");
  return {};
}

// Searches must agree bit for bit: ids, distances, visited and probed counts.
template <class T, class Metric>
void check_same_answers(const E2LSHIndex<T, Metric>& a, const E2LSHIndex<T, Metric>& b,
                        const RowMatrix<T>& queries, Eigen::Index k) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.next_id() == b.next_id());
  REQUIRE(a.num_removed() == b.num_removed());
  const auto x = a.search(queries, k);
  const auto y = b.search(queries, k);
  CHECK(x.ids() == y.ids());
  CHECK(std::memcmp(x.distances().data(), y.distances().data(),
                    sizeof(T) * static_cast<std::size_t>(x.distances().size())) == 0);
  CHECK(x.visited() == y.visited());
  CHECK(x.probed() == y.probed());
}

// A section of a file as the layout in docs/file-format.md describes it, found by walking the
// bytes (independently of the library's reader).
struct SectionAt {
  std::string tag;
  std::uint64_t count;
  std::size_t data;  // offset of the first element
};

std::vector<SectionAt> sections_of(const Bytes& b) {
  const std::uint64_t params = testing::get_le<std::uint64_t>(b, 48);
  std::size_t at = 64 + static_cast<std::size_t>((params + 7) / 8 * 8);
  std::vector<SectionAt> out;
  static const std::size_t sizes[] = {0, 4, 8, 4, 8, 1, 4, 8};
  while (at + 8 < b.size()) {
    SectionAt s{
        std::string(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at) + 4),
        testing::get_le<std::uint64_t>(b, at + 8), at + 16};
    out.push_back(s);
    at = s.data + static_cast<std::size_t>((s.count * sizes[b[at + 4]] + 7) / 8 * 8);
  }
  return out;
}

// The n-th section with `tag` (n = table number for the table sections).
SectionAt find_section(const Bytes& b, const std::string& tag, int n = 0) {
  for (const auto& s : sections_of(b)) {
    if (s.tag == tag && n-- == 0) return s;
  }
  FAIL("no section " << tag);
  return {};
}

// Offset of the value of the named parameter `name` (docs/file-format.md, format 6 on).
std::size_t param_at(const Bytes& b, const char* name) {
  const std::size_t at = testing::param_offset(b, name);
  REQUIRE(at != 0);
  return at;
}

E2LSHParams small_params() {
  E2LSHParams p;
  p.num_tables = 4;
  p.num_hashes = 3;
  p.bucket_width = 1.5;
  p.num_probes = 2;
  p.seed = 17;
  return p;
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("saved E2LSH indexes answer bit for bit like the original",
                           "[file][e2lsh]", E2LSHIndex,
                           ((float, Euclidean), (float, Cosine), (float, Manhattan),
                            (double, Euclidean), (double, Cosine), (double, Manhattan))) {
  using T = typename TestType::Scalar;
  testing::TempDir dir;
  const auto path = dir.file("lsh.pst");
  const auto queries = gaussian<T>(50, 12, 2);
  E2LSHParams params;
  params.num_tables = 6;
  params.num_hashes = 4;
  params.bucket_width = 3.0;
  params.num_probes = 3;
  params.seed = 99;
  params.min_collisions = 2;
  TestType index(12, params);
  index.add(gaussian<T>(300, 12, 1));
  index.add(gaussian<T>(100, 12, 3));  // the tables are merged: a second batch

  SECTION("fresh") {
    pstable::save_index(index, path);
    const auto loaded = pstable::load_index<TestType>(path);
    CHECK(loaded.dim() == 12);
    CHECK(loaded.params().num_tables == 6);
    CHECK(loaded.params().num_hashes == 4);
    CHECK(loaded.params().bucket_width == 3.0);
    CHECK(loaded.params().num_probes == 3);
    CHECK(loaded.params().seed == 99);
    CHECK(loaded.params().min_collisions == 2);
    CHECK(loaded.hash_family().scaled_projections() == index.hash_family().scaled_projections());
    CHECK(loaded.hash_family().scaled_offsets() == index.hash_family().scaled_offsets());
    for (std::size_t t = 0; t < 6; ++t) {
      CHECK(loaded.tables()[t].keys() == index.tables()[t].keys());
      CHECK(loaded.tables()[t].offsets() == index.tables()[t].offsets());
      CHECK(loaded.tables()[t].rows() == index.tables()[t].rows());
    }
    check_same_answers(index, loaded, queries, 10);
  }
  SECTION("after remove, then after compact, then adding to both") {
    for (const Id id : {0, 5, 77, 301, 399}) index.remove(id);
    pstable::save_index(index, path);
    auto loaded = pstable::load_index<TestType>(path);
    CHECK(loaded.size() == 395);
    CHECK_FALSE(loaded.contains(77));
    CHECK(loaded.contains(78));
    check_same_answers(index, loaded, queries, 10);
    CHECK(read_index_file_info(path).count == 395);

    index.compact();
    index.remove(100);
    pstable::save_index(index, path);
    loaded = pstable::load_index<TestType>(path);
    check_same_answers(index, loaded, queries, 10);
    CHECK_THROWS_AS(loaded.remove(100), InvalidArgument);
    CHECK_THROWS_AS(loaded.remove(5), InvalidArgument);

    // The loaded index goes on like the original: ids continue, probes can change.
    const auto more = gaussian<T>(30, 12, 4);
    index.add(more);
    loaded.add(more);
    CHECK(loaded.next_id() == 430);
    check_same_answers(index, loaded, queries, 10);
    index.set_num_probes(0);
    loaded.set_num_probes(0);
    index.set_min_collisions(1);
    loaded.set_min_collisions(1);
    check_same_answers(index, loaded, queries, 5);
  }
}

TEST_CASE("E2LSH parameters load by name, and packed from format 2-5 files", "[file][e2lsh]") {
  using Index = E2LSHIndex<float, Euclidean>;
  testing::TempDir dir;
  E2LSHParams params = small_params();
  params.min_collisions = 2;
  Index index(3, params);
  index.add(gaussian<float>(40, 3, 1));
  index.remove(4);
  pstable::save_index(index, dir.file("good.pst"));
  const Bytes good = testing::read_bytes(dir.file("good.pst"));
  const auto queries = gaussian<float>(9, 3, 2);
  const auto w = [&] {
    std::uint64_t bits;
    std::memcpy(&bits, &params.bucket_width, 8);
    return bits;
  }();
  const std::uint8_t i32 = 3, i64 = 4, u8 = 5, u64 = 7, f64 = 2;
  // The block as docs/file-format.md describes it, with or without min_collisions.
  const auto named = [&](bool with_collisions) {
    Bytes b;
    testing::put_param(b, "num_tables", i32, std::uint32_t{4});
    testing::put_param(b, "num_hashes", i32, std::uint32_t{3});
    testing::put_param(b, "bucket_width", f64, w);
    testing::put_param(b, "num_probes", i32, std::uint32_t{2});
    testing::put_param(b, "seed", u64, std::uint64_t{17});
    if (with_collisions) testing::put_param(b, "min_collisions", i32, std::uint32_t{2});
    testing::put_param(b, "next_id", i64, std::uint64_t{40});
    testing::put_param(b, "id_map", u8, std::uint8_t{0});
    return b;
  };
  REQUIRE(testing::with_params_block(good, named(true)) == good);

  SECTION("a parameter the file lacks takes its default") {
    testing::write_bytes(dir.file("old.pst"), testing::with_params_block(good, named(false)));
    const auto loaded = pstable::load_index<Index>(dir.file("old.pst"));
    CHECK(loaded.params().min_collisions == 1);
    CHECK(loaded.params().num_probes == 2);
    index.set_min_collisions(1);
    check_same_answers(index, loaded, queries, 5);
  }
  SECTION("a parameter of the wrong type names it") {
    Bytes b = named(true);
    b[param_at(testing::with_params_block(good, b), "seed") - 64 - 1] = i64;
    testing::write_bytes(dir.file("bad.pst"), testing::with_params_block(good, b));
    CHECK_THAT(format_error<Index>(dir.file("bad.pst")),
               Catch::Contains("parameter 'seed' is i64, expected u64"));
  }
  SECTION("format 5 files hold the parameters packed in a fixed order") {
    Bytes packed;
    testing::put_le(packed, std::uint32_t{4});
    testing::put_le(packed, std::uint32_t{3});
    testing::put_le(packed, w);
    testing::put_le(packed, std::uint32_t{2});
    testing::put_le(packed, std::uint64_t{17});
    testing::put_le(packed, std::uint64_t{40});
    testing::put_le(packed, std::uint8_t{0});
    testing::put_le(packed, std::uint32_t{2});
    Bytes b = testing::with_params_block(good, packed);
    testing::patch_le<std::uint32_t>(b, 8, 5);
    fix_checksum(b);
    testing::write_bytes(dir.file("v5.pst"), b);
    CHECK(read_index_file_info(dir.file("v5.pst")).format_version == 5);
    const auto loaded = pstable::load_index<Index>(dir.file("v5.pst"));
    CHECK(loaded.params().min_collisions == 2);
    check_same_answers(index, loaded, queries, 5);
    // A named block under version 5 is read as packed values, and refused.
    b = good;
    testing::patch_le<std::uint32_t>(b, 8, 5);
    fix_checksum(b);
    testing::write_bytes(dir.file("mixed.pst"), b);
    CHECK_THROWS_AS(pstable::load_index<Index>(dir.file("mixed.pst")), FormatError);
  }
}

TEST_CASE("format version 1 E2LSH files still load", "[file][e2lsh]") {
  // tests/data/e2lsh_format_v1.pstable was written by pstable's format-1 writer (before
  // min_collisions): 200 rows of 8 SplitMix64(7) uniforms, L=4 k=3 w=0.5 probes=2 seed=5, id 3
  // removed. It must load with min_collisions = 1 and answer like a fresh index of the same data.
  const auto path = std::string(PSTABLE_TEST_DATA_DIR) + "/e2lsh_format_v1.pstable";
  CHECK(read_index_file_info(path).format_version == 1);
  const auto loaded = pstable::load_index<E2LSHIndex<float, Euclidean>>(path);
  CHECK(loaded.params().min_collisions == 1);
  CHECK(loaded.params().num_probes == 2);
  detail::SplitMix64 rng(7);
  RowMatrix<float> data(200, 8);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = static_cast<float>(rng.uniform());
  E2LSHParams p;
  p.num_tables = 4;
  p.num_hashes = 3;
  p.bucket_width = 0.5;
  p.num_probes = 2;
  p.seed = 5;
  E2LSHIndex<float, Euclidean> fresh(8, p);
  fresh.add(data);
  fresh.remove(3);
  for (std::size_t t = 0; t < 4; ++t) CHECK(loaded.tables()[t].rows() == fresh.tables()[t].rows());
  check_same_answers(fresh, loaded, RowMatrix<float>(data.topRows(40)), 5);
}

TEST_CASE("empty and fully removed E2LSH indexes round trip", "[file][e2lsh]") {
  testing::TempDir dir;
  E2LSHIndex<float, Euclidean> empty(5, small_params());
  pstable::save_index(empty, dir.file("e.pst"));
  auto loaded = pstable::load_index<E2LSHIndex<float, Euclidean>>(dir.file("e.pst"));
  CHECK(loaded.size() == 0);
  CHECK(loaded.dim() == 5);
  CHECK(loaded.next_id() == 0);
  const auto data = gaussian<float>(20, 5, 1);
  loaded.add(data);
  empty.add(data);
  check_same_answers(empty, loaded, gaussian<float>(7, 5, 2), 3);

  for (Id id = 0; id < 20; ++id) empty.remove(id);
  empty.compact();
  pstable::save_index(empty, dir.file("gone.pst"));
  auto gone = pstable::load_index<E2LSHIndex<float, Euclidean>>(dir.file("gone.pst"));
  CHECK(gone.size() == 0);
  CHECK(gone.next_id() == 20);
  gone.add(data.topRows(4));
  CHECK(gone.contains(23));
  CHECK_FALSE(gone.contains(3));
}

TEST_CASE("E2LSH file layout matches docs/file-format.md", "[file][e2lsh]") {
  testing::TempDir dir;
  E2LSHIndex<double, Cosine> index(3, small_params());
  index.add(gaussian<double>(10, 3, 1));
  index.remove(4);
  index.set_min_collisions(2);
  pstable::save_index(index, dir.file("l.pst"));
  const Bytes b = testing::read_bytes(dir.file("l.pst"));
  CHECK((b[24] == 2 && b[25] == 2 && b[26] == 2 && b[27] == 0));  // e2lsh, float64, cosine, rows
  CHECK(testing::get_le<std::uint64_t>(b, 40) == 9);              // live points
  CHECK(testing::get_le<std::uint64_t>(b, 8) % (1ULL << 32) ==
        kIndexFormatVersion);  // format version
  // Parameter bytes: 8 entries of 1 + name + 1 + value bytes.
  CHECK(testing::get_le<std::uint64_t>(b, 48) == 16 + 16 + 22 + 16 + 14 + 20 + 17 + 9);
  CHECK(b[64] == 10);  // the first entry's name length: "num_tables"
  CHECK(std::string(b.begin() + 65, b.begin() + 75) == "num_tables");
  CHECK(b[75] == 3);  // i32
  CHECK(b[param_at(b, "num_tables")] == 4);
  CHECK(b[param_at(b, "min_collisions")] == 2);
  CHECK(b[param_at(b, "next_id")] == 10);
  CHECK(b[param_at(b, "id_map")] == 0);
  double w;
  std::memcpy(&w, &b[param_at(b, "bucket_width")], 8);
  CHECK(w == 1.5);
  const auto s = sections_of(b);
  REQUIRE(s.size() == 5 + 3 * 4);
  CHECK(s[0].data == 64 + 136 + 16);  // header, 130 parameter bytes padded, section header
  CHECK(b[28] == s.size());
  const char* tags[] = {"ROWS", "DELS", "IDMP", "PROJ", "OFFS", "TKEY", "TOFF", "TROW"};
  for (std::size_t i = 0; i < s.size(); ++i) CHECK(s[i].tag == tags[i < 5 ? i : 5 + (i - 5) % 3]);
  CHECK(s[0].count == 30);  // rows x dim, the removed row included
  CHECK(s[1].count == 10);
  CHECK(b[s[1].data + 4] == 1);
  CHECK(s[2].count == 0);
  CHECK(s[3].count == 3 * 12);
  CHECK(s[4].count == 12);
  CHECK(s[5].count + 1 == s[6].count);
  CHECK(s[7].count == 10);
  CHECK(s.back().data + 40 + 8 == b.size());  // last TROW: 10 u32 + padding, then the trailer
}

TEST_CASE("E2LSH files with a valid checksum but inconsistent contents are rejected",
          "[file][e2lsh]") {
  using Index = E2LSHIndex<float, Euclidean>;
  testing::TempDir dir;
  Index index(3, small_params());
  index.add(gaussian<float>(40, 3, 1));
  pstable::save_index(index, dir.file("plain.pst"));
  const Bytes plain = testing::read_bytes(dir.file("plain.pst"));
  index.remove(2);
  index.remove(30);
  index.compact();
  pstable::save_index(index, dir.file("mapped.pst"));
  const Bytes mapped = testing::read_bytes(dir.file("mapped.pst"));
  const auto path = dir.file("crafted.pst");
  auto error_after = [&](const Bytes& good, const std::function<void(Bytes&)>& edit) {
    Bytes b = good;
    edit(b);
    fix_checksum(b);
    testing::write_bytes(path, b);
    return format_error<Index>(path);
  };
  using Catch::Contains;

  // Parameters.
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[param_at(b, "num_tables")] = 0; }),
             Contains("bad E2LSH parameters: num_tables"));
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const double nan = std::numeric_limits<double>::quiet_NaN();
                           std::memcpy(&b[param_at(b, "bucket_width")], &nan, 8);
                         }),
             Contains("bucket_width"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[param_at(b, "min_collisions")] = 5; }),
             Contains("min_collisions must be in [1, num_tables = 4], got 5"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[param_at(b, "id_map")] = 2; }),
             Contains("id-map flag is 2"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[param_at(b, "next_id")] = 41; }),
             Contains("next id 41"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[param_at(b, "next_id") + 7] = 0x80; }),
             Contains("outside [0, 2^62]"));

  // Rows, tombstones, header count.
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[find_section(b, "ROWS").data - 8] = 119; }),
             Contains("not a multiple of the 3 dimensions"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[find_section(b, "DELS").data + 3] = 2; }),
             Contains("tombstone of row 3 is 2"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[find_section(b, "DELS").data + 3] = 1; }),
             Contains("header counts 40 points") && Contains("1 are removed"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[40] = 41; }), Contains("header counts 41"));
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const float inf = std::numeric_limits<float>::infinity();
                           std::memcpy(&b[find_section(b, "ROWS").data + 20], &inf, 4);
                         }),
             Contains("rejects") && Contains("inf"));

  // Id map (the compacted file: ids 0 1 3 4 ... 29 31 ... 39, next id 40).
  CHECK_THAT(error_after(mapped, [](Bytes& b) { b[param_at(b, "id_map")] = 0; }),
             Contains("IDMP holds 38 ids but the id-map flag is 0"));
  CHECK_THAT(error_after(mapped, [](Bytes& b) { b[find_section(b, "IDMP").data + 8] = 0; }),
             Contains("id 0 is held by two rows"));
  CHECK_THAT(error_after(mapped, [](Bytes& b) { b[find_section(b, "IDMP").data + 37 * 8] = 40; }),
             Contains("id 40 of row 37"));
  CHECK_THAT(error_after(mapped, [](Bytes& b) { b[find_section(b, "IDMP").data + 7] = 0xff; }),
             Contains("of row 0 is outside [0, next id 40)"));

  // Hash family.
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const float nan = std::numeric_limits<float>::quiet_NaN();
                           std::memcpy(&b[find_section(b, "OFFS").data + 4], &nan, 4);
                         }),
             Contains("NaN or infinity"));

  // Tables.
  const auto swap_u64 = [](Bytes& b, std::size_t at) {
    std::swap_ranges(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at) + 8,
                     b.begin() + static_cast<long>(at) + 8);
  };
  CHECK_THAT(error_after(plain, [&](Bytes& b) { swap_u64(b, find_section(b, "TKEY", 2).data); }),
             Contains("table 2 bucket keys are not strictly ascending at bucket 1"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[find_section(b, "TOFF", 1).data] = 1; }),
             Contains("table 1 offsets run from 1 to 40"));
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const auto s = find_section(b, "TOFF", 3);
                           b[s.data + 4 * (s.count - 1)] = 39;
                         }),
             Contains("table 3 offsets run from 0 to 39"));
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const auto s = find_section(b, "TOFF");
                           std::memcpy(&b[s.data + 8], &b[s.data + 4], 4);
                         }),
             Contains("table 0 offsets are not strictly increasing at bucket 1"));
  CHECK_THAT(error_after(plain, [](Bytes& b) { b[find_section(b, "TROW", 1).data + 8] = 40; }),
             Contains("table 1 lists row 40 beyond the 40 rows"));
  CHECK_THAT(error_after(plain,
                         [](Bytes& b) {
                           const auto s = find_section(b, "TROW");
                           std::memcpy(&b[s.data + 4], &b[s.data], 4);
                         }),
             Contains("twice"));
  CHECK_THAT(error_after(mapped, [](Bytes& b) { b[find_section(b, "TROW").data + 4 * 20] = 38; }),
             Contains("table 0 lists row 38 beyond the 38 rows"));

  // Rows out of order inside a bucket: find a bucket of table 0 with two rows and swap them.
  Bytes b = plain;
  const auto off = find_section(b, "TOFF");
  const auto rows = find_section(b, "TROW");
  bool swapped = false;
  for (std::uint64_t i = 0; i + 1 < off.count && !swapped; ++i) {
    const std::uint32_t begin = b[off.data + 4 * i], end = b[off.data + 4 * (i + 1)];
    if (end - begin >= 2) {
      std::swap_ranges(b.begin() + static_cast<long>(rows.data + 4 * begin),
                       b.begin() + static_cast<long>(rows.data + 4 * begin + 4),
                       b.begin() + static_cast<long>(rows.data + 4 * begin + 4));
      swapped = true;
    }
  }
  REQUIRE(swapped);  // 40 points in 3-hash buckets of width 1.5: some bucket holds two
  fix_checksum(b);
  testing::write_bytes(path, b);
  CHECK_THAT(format_error<Index>(path), Contains("rows are not ascending"));
}

TEST_CASE("truncated or damaged E2LSH files are rejected", "[file][e2lsh]") {
  testing::TempDir dir;
  E2LSHIndex<float, Cosine> index(2, small_params());
  index.add(gaussian<float>(6, 2, 1));
  pstable::save_index(index, dir.file("s.pst"));
  const Bytes good = testing::read_bytes(dir.file("s.pst"));
  const auto path = dir.file("bad.pst");
  for (std::size_t n = 1; n < good.size(); ++n) {
    CAPTURE(n);
    testing::write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    CHECK_THAT((format_error<E2LSHIndex<float, Cosine>>(path)), Catch::Contains("truncated"));
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    CAPTURE(at);
    Bytes b = good;
    b[at] ^= 0x01;
    testing::write_bytes(path, b);
    CHECK_THROWS_AS((pstable::load_index<E2LSHIndex<float, Cosine>>(path)), FormatError);
  }
}

TEST_CASE("loading E2LSH files as the wrong type names the right one", "[file][e2lsh]") {
  testing::TempDir dir;
  E2LSHIndex<float, Euclidean> lsh(4, small_params());
  lsh.add(gaussian<float>(10, 4, 1));
  pstable::save_index(lsh, dir.file("lsh.pst"));
  CHECK_THAT((format_error<E2LSHIndex<double, Euclidean>>(dir.file("lsh.pst"))),
             Catch::Contains("holds a float32 euclidean e2lsh index; load it as "
                             "E2LSHIndex<float, Euclidean>, not as E2LSHIndex<double, Euclidean>"));
  CHECK_THAT((format_error<E2LSHIndex<float, Cosine>>(dir.file("lsh.pst"))),
             Catch::Contains("not as E2LSHIndex<float, Cosine>"));
  CHECK_THAT((format_error<ExactIndex<float, Euclidean>>(dir.file("lsh.pst"))),
             Catch::Contains("load it as E2LSHIndex<float, Euclidean>, not as ExactIndex<float, "
                             "Euclidean>"));

  ExactIndex<double, Cosine> exact(4);
  exact.add(gaussian<double>(10, 4, 1));
  pstable::save_index(exact, dir.file("exact.pst"));
  CHECK_THAT((format_error<E2LSHIndex<double, Cosine>>(dir.file("exact.pst"))),
             Catch::Contains("holds a float64 cosine exact index; load it as ExactIndex<double, "
                             "Cosine>"));

  const auto info = read_index_file_info(dir.file("lsh.pst"));
  CHECK(info.kind == IndexKind::e2lsh);
  CHECK(info.type_name() == "E2LSHIndex<float, Euclidean>");
  CHECK(info.count == 10);
  CHECK(info.dim == 4);
}
