// load_index with LoadMode::map: the mapped index answers exactly like the copied load, reads
// its rows in place, keeps the mapping alive, copies on the first add, and rejects every file
// the copied load rejects.
#include "catch_compat.hpp"

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "file_util.hpp"
#include "test_data.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

using namespace pstable;
using testing::Bytes;
using testing::gaussian;

namespace {

// Bit-identical answers: ids, distances and visited (and probed for E2LSH).
template <class T>
void check_same(const Neighbors<T>& x, const Neighbors<T>& y) {
  CHECK(x.ids() == y.ids());
  REQUIRE(x.distances().size() == y.distances().size());
  CHECK(std::memcmp(x.distances().data(), y.distances().data(),
                    sizeof(T) * static_cast<std::size_t>(x.distances().size())) == 0);
  CHECK(x.visited() == y.visited());
  CHECK(x.probed() == y.probed());
}

template <class Index>
void check_same_answers(const Index& a, const Index& b, const RowMatrix<typename Index::Scalar>& q,
                        Eigen::Index k) {
  REQUIRE(a.size() == b.size());
  check_same(a.search(q, k), b.search(q, k));                        // all queries (batched paths)
  check_same(a.search(q.topRows(3), k), b.search(q.topRows(3), k));  // a few (scan paths)
}

// True when p lies inside the bytes of the file's mapping: [first, first + bytes) of some
// region of /proc/self/maps that maps `path`. Independent of the library's own bookkeeping.
bool address_in_mapping_of(const void* p, const std::string& path) {
  const auto target = std::filesystem::canonical(path).string();
  std::FILE* maps = std::fopen("/proc/self/maps", "r");
  if (maps == nullptr) return false;
  char line[4096];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line, "%lx-%lx", &begin, &end) != 2) continue;
    const std::string text(line);
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    found = a >= begin && a < end && text.find(target) != std::string::npos;
  }
  std::fclose(maps);
  return found;
}

template <class Index>
std::string map_error(const std::string& path) {
  try {
    (void)load_index<Index>(path, LoadMode::map);
  } catch (const FormatError& e) {
    return e.what();
  }
  FAIL("mapped load did not throw FormatError");
  return {};
}

E2LSHParams small_params() {
  E2LSHParams p;
  p.num_tables = 6;
  p.num_hashes = 4;
  p.bucket_width = 3.0;
  p.num_probes = 4;
  p.seed = 11;
  return p;
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("mapped exact indexes answer like copied ones", "[file][mmap]",
                           ExactIndex,
                           ((float, Euclidean), (double, Euclidean), (float, Cosine),
                            (double, Cosine), (float, InnerProduct), (float, Manhattan))) {
  using T = typename TestType::Scalar;
  testing::TempDir dir;
  const auto path = dir.file("exact.pst");
  const auto data = gaussian<T>(500, 37, 3);
  const auto queries = gaussian<T>(40, 37, 4);
  TestType index(37);
  index.add(data);
  save_index(index, path);

  const auto copied = load_index<TestType>(path);
  const auto mapped = load_index<TestType>(path, LoadMode::map);
  CHECK(copied.owns_data());
  CHECK_FALSE(mapped.owns_data());
  CHECK(address_in_mapping_of(mapped.data().data(), path));  // rows read in place, not copied
  CHECK(RowMatrix<T>(mapped.data()) == data);
  for (const Eigen::Index k : {1, 10, 500}) check_same_answers(mapped, copied, queries, k);
  check_same_answers(mapped, index, queries, 10);
}

TEMPLATE_PRODUCT_TEST_CASE("mapped E2LSH indexes answer like copied ones", "[file][mmap]",
                           E2LSHIndex,
                           ((float, Euclidean), (double, Euclidean), (float, Cosine),
                            (double, Cosine), (float, Manhattan))) {
  using T = typename TestType::Scalar;
  testing::TempDir dir;
  const auto path = dir.file("e2lsh.pst");
  const auto data = gaussian<T>(800, 24, 5);
  const auto queries = gaussian<T>(30, 24, 6);
  TestType index(24, small_params());
  index.add(data);

  SECTION("fresh") {}
  SECTION("with removed points") {
    for (Id id = 0; id < 800; id += 7) index.remove(id);
  }
  SECTION("compacted (ids mapped)") {
    for (Id id = 0; id < 800; id += 5) index.remove(id);
    index.compact();
    index.remove(2);
  }
  save_index(index, path);

  const auto copied = load_index<TestType>(path);
  const auto mapped = load_index<TestType>(path, LoadMode::map);
  CHECK(copied.owns_data());
  CHECK_FALSE(mapped.owns_data());
  CHECK(mapped.next_id() == copied.next_id());
  CHECK(mapped.num_removed() == copied.num_removed());
  for (const Eigen::Index k : {1, 10}) {
    check_same_answers(mapped, copied, queries, k);
    check_same_answers(mapped, index, queries, k);
  }
}

TEST_CASE("a mapped index copies its rows on the first add and never writes the file",
          "[file][mmap]") {
  testing::TempDir dir;
  const auto data = gaussian<float>(400, 16, 7);
  const auto more = gaussian<float>(50, 16, 8);
  const auto queries = gaussian<float>(20, 16, 9);

  SECTION("E2LSH: remove, add, compact") {
    using Index = E2LSHIndex<float, Euclidean>;
    const auto path = dir.file("e2lsh.pst");
    Index original(16, small_params());
    original.add(data);
    save_index(original, path);
    const Bytes bytes = testing::read_bytes(path);

    Index copied = load_index<Index>(path);
    Index mapped = load_index<Index>(path, LoadMode::map);
    for (Index* i : {&copied, &mapped}) {
      i->remove(3);
      i->remove(250);
    }
    CHECK_FALSE(mapped.owns_data());  // tombstones live in memory: the rows stay mapped
    check_same_answers(mapped, copied, queries, 10);
    for (Index* i : {&copied, &mapped}) i->add(more);
    CHECK(mapped.owns_data());  // copied out of the mapping
    check_same_answers(mapped, copied, queries, 10);
    for (Index* i : {&copied, &mapped}) i->compact();
    check_same_answers(mapped, copied, queries, 10);
    CHECK(testing::read_bytes(path) == bytes);
  }

  SECTION("E2LSH: compact first") {
    using Index = E2LSHIndex<float, Cosine>;
    const auto path = dir.file("cosine.pst");
    Index original(16, small_params());
    original.add(data);
    original.remove(10);
    save_index(original, path);
    Index mapped = load_index<Index>(path, LoadMode::map);
    mapped.compact();
    CHECK(mapped.owns_data());
    original.compact();
    check_same_answers(mapped, original, queries, 5);
  }

  SECTION("exact: add") {
    using Index = ExactIndex<double, Euclidean>;
    const auto path = dir.file("exact.pst");
    Index original(16);
    original.add(data.cast<double>());
    save_index(original, path);
    const Bytes bytes = testing::read_bytes(path);
    Index mapped = load_index<Index>(path, LoadMode::map);
    mapped.add(more.cast<double>());
    original.add(more.cast<double>());
    CHECK(mapped.owns_data());
    check_same_answers(mapped, original, RowMatrix<double>(queries.cast<double>()), 10);
    CHECK(testing::read_bytes(path) == bytes);
  }
}

TEST_CASE("the mapping outlives the file name and lives as long as any copy of the index",
          "[file][mmap]") {
  testing::TempDir dir;
  const auto path = dir.file("e2lsh.pst");
  const auto data = gaussian<float>(300, 12, 10);
  const auto queries = gaussian<float>(10, 12, 11);
  using Index = E2LSHIndex<float, Euclidean>;
  Index original(12, small_params());
  original.add(data);
  save_index(original, path);

  auto mapped = std::make_unique<Index>(load_index<Index>(path, LoadMode::map));
  REQUIRE(::unlink(path.c_str()) == 0);  // POSIX: the mapping keeps the content
  check_same_answers(*mapped, original, queries, 5);

  const Index copy = *mapped;  // shares the mapping
  mapped.reset();
  check_same_answers(copy, original, queries, 5);

  // Replacing the file by save_index (a rename) leaves a mapped index on the old content.
  const auto exact_path = dir.file("exact.pst");
  ExactIndex<float, Euclidean> exact(12);
  exact.add(data);
  save_index(exact, exact_path);
  const auto old = load_index<ExactIndex<float, Euclidean>>(exact_path, LoadMode::map);
  ExactIndex<float, Euclidean> other(12);
  other.add(queries);
  save_index(other, exact_path);
  check_same_answers(old, exact, queries, 5);
  CHECK(load_index<ExactIndex<float, Euclidean>>(exact_path, LoadMode::map).size() == 10);

  // Saving a mapped index writes the same file as the original.
  const auto again = dir.file("again.pst");
  save_index(copy, again);
  save_index(original, path);
  CHECK(testing::read_bytes(again) == testing::read_bytes(path));
}

TEST_CASE("mapped loads reject truncated, corrupted and crafted files", "[file][mmap]") {
  testing::TempDir dir;
  using Exact = ExactIndex<float, Euclidean>;
  using Lsh = E2LSHIndex<float, Euclidean>;
  const auto path = dir.file("bad.pst");

  Exact exact(3);
  exact.add(gaussian<float>(5, 3, 12));
  save_index(exact, path);
  const Bytes good = testing::read_bytes(path);

  testing::write_bytes(path, Bytes{});
  CHECK_THAT(map_error<Exact>(path), Catch::Contains("empty"));
  for (std::size_t n = 1; n < good.size(); ++n) {
    CAPTURE(n);
    testing::write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    CHECK_THAT(map_error<Exact>(path), Catch::Contains("truncated"));
  }
  for (std::size_t at = 0; at < good.size(); ++at) {  // every flipped byte
    CAPTURE(at);
    Bytes b = good;
    b[at] ^= 0x01;
    testing::write_bytes(path, b);
    CHECK_THROWS_AS(load_index<Exact>(path, LoadMode::map), FormatError);
  }
  // A valid checksum over bad content: a NaN row is refused by the index's own validation.
  Bytes nan = good;
  const float bad = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan.data() + 64 + 32 + 16, &bad, sizeof bad);  // header, parameters, section header
  testing::fix_checksum(nan);
  testing::write_bytes(path, nan);
  CHECK_THAT(map_error<Exact>(path), Catch::Contains("rejects"));

  // E2LSH: a flipped bit in the last table, and a table row beyond the rows with a valid checksum.
  Lsh lsh(3, small_params());
  lsh.add(gaussian<float>(40, 3, 13));
  save_index(lsh, path);
  const Bytes lsh_good = testing::read_bytes(path);
  Bytes flipped = lsh_good;
  flipped[flipped.size() - 12] ^= 0x40;
  testing::write_bytes(path, flipped);
  CHECK_THAT(map_error<Lsh>(path), Catch::Contains("checksum mismatch"));
  Bytes crafted = lsh_good;  // the last TROW entry (u32 before the 8-byte trailer) := 40 rows
  const std::uint32_t beyond = 40;
  std::memcpy(crafted.data() + crafted.size() - 8 - 4, &beyond, sizeof beyond);
  testing::fix_checksum(crafted);
  testing::write_bytes(path, crafted);
  CHECK_THAT(map_error<Lsh>(path), Catch::Contains("beyond"));
  CHECK_THROWS_AS(load_index<Exact>(path, LoadMode::map), FormatError);  // wrong type
}

TEST_CASE("mapping something that is not a regular file raises IoError", "[file][mmap]") {
  testing::TempDir dir;
  using Exact = ExactIndex<float, Euclidean>;
  CHECK_THROWS_AS(load_index<Exact>(dir.path().string(), LoadMode::map), IoError);
  CHECK_THROWS_AS(load_index<Exact>(dir.file("missing.pst"), LoadMode::map), IoError);
  CHECK_THROWS_AS(load_index<Exact>(std::string("a\0b", 3), LoadMode::map), InvalidArgument);
}

TEST_CASE("the checksum of a mapping, sliced over threads, equals zlib's one pass",
          "[file][mmap]") {
  // The oracle: zlib's crc32 in one call. Sizes below, at and around slice boundaries.
  Bytes bytes(3 * detail::kCrcSlice + 12345);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<unsigned char>((i * 2654435761u) >> 13);
  }
  for (const std::uint64_t n : {std::uint64_t{64}, detail::kCrcSlice - 1, detail::kCrcSlice,
                                2 * detail::kCrcSlice + 1, std::uint64_t{bytes.size()}}) {
    CAPTURE(n);
    const auto expected =
        static_cast<std::uint32_t>(::crc32(0, bytes.data(), static_cast<uInt>(n)));
    CHECK(detail::parallel_crc32(bytes.data(), n) == expected);
  }

  // A file of several slices loads mapped, and a flipped bit in a later slice is caught.
  testing::TempDir dir;
  const auto path = dir.file("big.pst");
  const auto data = gaussian<float>(3500, 1024, 14);  // 14.3 MB: 3 slices
  ExactIndex<float, Euclidean> index(1024);
  index.add(data);
  save_index(index, path);
  CHECK(RowMatrix<float>(load_index<ExactIndex<float, Euclidean>>(path, LoadMode::map).data()) ==
        data);
  Bytes b = testing::read_bytes(path);
  b[b.size() - 100000] ^= 0x02;
  testing::write_bytes(path, b);
  using Exact = ExactIndex<float, Euclidean>;
  CHECK_THAT(map_error<Exact>(path), Catch::Contains("checksum mismatch"));
}
