#include "catch_compat.hpp"

#include <cmath>
#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "file_util.hpp"
#include "test_data.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"
#include "pstable/simd/code_kernels.hpp"
#include "pstable/storage/pca_sketch.hpp"
#include "pstable/storage/scalar_quantizer.hpp"
#include "pstable/storage/scalar_codes.hpp"
#include "pstable/storage/traits.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Rows of small integers in [0, 255], like image pixels.
template <class T>
RowMatrix<T> pixels(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(0, 255);
  RowMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(v(rng) / 8 * 8);
  return m;
}

// Clusters, so that buckets hold many points and candidates overlap between queries.
template <class T>
RowMatrix<T> clustered(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  RowMatrix<T> centres = gaussian<T>(8, cols, seed) * T(4);
  RowMatrix<T> m = gaussian<T>(rows, cols, seed + 1) * T(0.5);
  for (Eigen::Index i = 0; i < rows; ++i) m.row(i) += centres.row(i % 8);
  return m;
}

template <class T, class Metric, unsigned Bits = 8>
void check_same_results(const RowMatrix<T>& data, const RowMatrix<T>& queries,
                        const E2LSHParams& params, Eigen::Index k) {
  INFO(Bits << "-bit codes, " << Metric::name);
  E2LSHIndex<T, Metric> flat(data.cols(), params);
  E2LSHIndex<T, Metric, ScalarCodeStorage<T, Metric, Bits>> coded(data.cols(), params);
  flat.add(data);
  coded.add(data);
  // Batched (grouped by row) and one query per call (the direct path).
  const auto a = flat.search(queries, k);
  const auto b = coded.search(queries, k);
  CHECK(a.ids() == b.ids());
  CHECK(a.distances() == b.distances());
  CHECK(a.visited() == b.visited());
  for (Eigen::Index q = 0; q < std::min<Eigen::Index>(queries.rows(), 5); ++q) {
    const auto one = coded.search(queries.middleRows(q, 1), k);
    CHECK(one.ids().row(0) == a.ids().row(q));
    CHECK(one.distances().row(0) == a.distances().row(q));
  }
  // A few queries per call are scored query by query (with sketches first, for d >= 256).
  const Eigen::Index few = std::min<Eigen::Index>(queries.rows(), 5);
  const auto some = coded.search(queries.topRows(few), k);
  CHECK(some.ids() == a.ids().topRows(few));
  CHECK(some.distances() == a.distances().topRows(few));
  // Range search scores every candidate on the full-precision rows: the same as flat storage.
  // The radius: the median of the queries' (k/2)-th values that exist (some queries of these
  // data sets find no candidate at all).
  std::vector<T> reached;
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    if (std::isfinite(a.distances()(q, k / 2))) reached.push_back(a.distances()(q, k / 2));
  }
  if (!reached.empty()) {
    std::sort(reached.begin(), reached.end());
    const T radius = reached[reached.size() / 2];
    const auto ra = flat.search_radius(queries, radius);
    const auto rb = coded.search_radius(queries, radius);
    CHECK(ra.total() > 0);
    CHECK(ra.offsets() == rb.offsets());
    CHECK(ra.ids() == rb.ids());
    CHECK(ra.distances() == rb.distances());
    CHECK(ra.visited() == rb.visited());
  }
  CHECK(coded.memory_bytes() > flat.memory_bytes());
}

// Both widths: check_same_results with 8-bit and with 4-bit codes.
template <class T, class Metric>
void check_both_widths(const RowMatrix<T>& data, const RowMatrix<T>& queries,
                       const E2LSHParams& params, Eigen::Index k) {
  check_same_results<T, Metric, 8>(data, queries, params, k);
  check_same_results<T, Metric, 4>(data, queries, params, k);
}

// Every stored row's interval from `bounds` holds its true key (computed independently, in long
// double), for random queries near and far. The rows come in three adds: the second may widen
// the range (every row re-coded), the third repeats rows inside it (only the new rows coded), so
// the per-row data `bounds` reads is checked after both kinds of add.
template <class T, class Metric, unsigned Bits>
void check_bounds_hold(const RowMatrix<T>& data, const RowMatrix<T>& queries) {
  INFO(Bits << "-bit codes, " << Metric::name);
  ScalarCodeStorage<T, Metric, Bits> storage(data.cols());
  const Eigen::Index half = data.rows() / 2;
  storage.append(data.topRows(half));
  storage.append(data.bottomRows(data.rows() - half));
  storage.append(data.topRows(half));
  REQUIRE(storage.size() == data.rows() + half);
  const auto& kernels = simd::kernels<T>();
  typename ScalarCodeStorage<T, Metric, Bits>::QueryCode qc;
  std::vector<T> buffer;
  const auto d = static_cast<std::size_t>(data.cols());
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const T* prepared = storage.prepare_query(queries.row(q).data(), buffer);
    storage.encode_query(prepared, qc);
    for (Eigen::Index i = 0; i < storage.size(); ++i) {
      const auto b = storage.bounds(kernels, qc, static_cast<Id>(i));
      // The key every storage re-ranks with, and the same in the product form's scale.
      const double key = double(storage.key(kernels, prepared, static_cast<Id>(i)));
      long double shift = 0;
      if constexpr (Metric::key_is_squared_l2) {
        for (std::size_t j = 0; j < d; ++j) shift += (long double)prepared[j] * prepared[j];
      }
      const double target = double((long double)key - shift);
      INFO("query " << q << " row " << i << " [" << b.lo << ", " << b.hi << "] key " << target);
      CHECK(b.lo <= b.hi);
      CHECK(b.lo <= target + 1e-9 * std::abs(target));
      CHECK(target - 1e-9 * std::abs(target) <= b.hi);
    }
  }
}

}  // namespace

TEST_CASE("code kernels: every variant of this CPU equals the scalar loop", "[sq8][simd]") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> c(0, 255), q(-32767, 32767);
  for (const std::size_t n : {0u, 1u, 7u, 8u, 31u, 32u, 63u, 64u, 65u, 100u, 784u, 1000u}) {
    std::vector<std::uint8_t> codes(n);
    std::vector<std::int16_t> query(n);
    for (auto& v : codes) v = static_cast<std::uint8_t>(c(rng));
    for (auto& v : query) v = static_cast<std::int16_t>(q(rng) * 8192 / 32767);  // no overflow
    const std::int32_t expect = simd::scalar::dot_u8_i16(codes.data(), query.data(), n);
    std::int64_t wide = 0;
    for (std::size_t j = 0; j < n; ++j) wide += std::int64_t{codes[j]} * query[j];
    REQUIRE(expect == wide);
    for (const auto& kernels : simd::detail::supported_code_kernels()) {
      INFO(kernels.arch << " n=" << n);
      CHECK(kernels.dot_u8_i16(codes.data(), query.data(), n) == expect);
    }
  }
  CHECK(simd::code_kernels().arch != nullptr);
}

TEST_CASE("code kernels: packed 4-bit codes, every variant equals the unpacked product",
          "[sq4][simd]") {
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> c(0, 255), q(-32767, 32767);
  for (const std::size_t n : {0u, 64u, 128u, 192u, 448u, 1024u}) {
    std::vector<std::uint8_t> packed(n);
    std::vector<std::int16_t> query(2 * n);
    for (auto& v : packed) v = static_cast<std::uint8_t>(c(rng));
    for (auto& v : query) v = static_cast<std::int16_t>(q(rng));
    // The layout, spelled out: byte b of block B holds value 128 B + b (low nibble) and
    // 128 B + 64 + b (high nibble).
    std::vector<std::uint8_t> values(2 * n);
    for (std::size_t b = 0; b < n; ++b) {
      values[b / 64 * 128 + b % 64] = packed[b] & 15;
      values[b / 64 * 128 + 64 + b % 64] = packed[b] >> 4;
    }
    std::int64_t wide = 0;
    for (std::size_t j = 0; j < 2 * n; ++j) wide += std::int64_t{values[j]} * query[j];
    REQUIRE(simd::scalar::dot_u4_i16(packed.data(), query.data(), n) == wide);
    for (const auto& kernels : simd::detail::supported_code_kernels()) {
      INFO(kernels.arch << " n=" << n);
      CHECK(kernels.dot_u4_i16(packed.data(), query.data(), n) == wide);
    }
  }
}

TEST_CASE("code storages: every interval holds the true key", "[sq8][sq4]") {
  const auto data = clustered<float>(120, 40, 31);
  RowMatrix<float> queries(6, 40);
  queries.topRows(3) = clustered<float>(3, 40, 32);
  queries.bottomRows(3) = gaussian<float>(3, 40, 33) * 20.0f;  // far from every row
  check_bounds_hold<float, Euclidean, 8>(data, queries);
  check_bounds_hold<float, Euclidean, 4>(data, queries);
  check_bounds_hold<float, InnerProduct, 4>(data, queries);
  check_bounds_hold<float, Cosine, 4>(data, queries);
  check_bounds_hold<float, Manhattan, 4>(data, queries);
  check_bounds_hold<double, Euclidean, 4>(data.cast<double>(), queries.cast<double>());
  const auto px = pixels<float>(100, 200, 34);
  check_bounds_hold<float, Euclidean, 4>(px, pixels<float>(4, 200, 35));
  check_bounds_hold<float, Euclidean, 8>(px, pixels<float>(4, 200, 35));
}

TEST_CASE("Sq4Storage: codes pack two per byte; the triangle bound narrows Euclidean intervals",
          "[sq4]") {
  const auto data = clustered<float>(50, 200, 41);
  Sq4Storage<float, Euclidean> sq4(200);
  sq4.append(data);
  CHECK(sq4.code_stride() == 128);  // 200 values: two blocks of 128
  std::vector<std::uint8_t> unpacked(200), expect(200);
  for (Id i = 0; i < 50; ++i) {
    sq4.unpack(i, unpacked.data());
    sq4.quantizer().encode(data.row(i).data(), expect.data());
    CHECK(unpacked == expect);
    for (std::size_t b = 200 - 192; b < 64; ++b) CHECK((sq4.codes(i)[64 + b] >> 4) == 0);  // pad
  }
  Sq8Storage<float, Euclidean> sq8(200);
  sq8.append(data);
  CHECK(sq8.code_stride() == 256);
  CHECK(sq4.memory_bytes() + 50 * 128 <= sq8.memory_bytes());
  // Near neighbours: the triangle inequality's interval is much narrower than Cauchy-Schwarz's
  // alone (about 2 e ||q - x|| against 2 e ||q||, with e the coding error).
  Sq4Storage<float, InnerProduct> product_only(200);
  product_only.append(data);
  const auto& kernels = simd::kernels<float>();
  Sq4Storage<float, Euclidean>::QueryCode qc;
  Sq4Storage<float, InnerProduct>::QueryCode qp;
  RowMatrix<float> query = data.row(0) + gaussian<float>(1, 200, 42) * 0.1f;
  sq4.encode_query(query.data(), qc);
  product_only.encode_query(query.data(), qp);
  const auto tight = sq4.bounds(kernels, qc, 0);
  const auto loose = product_only.bounds(kernels, qp, 0);
  // The Euclidean key is ||x||^2 - 2 q.x: Cauchy-Schwarz alone gives it twice IP's width.
  CHECK(tight.hi - tight.lo < 0.5 * 2 * (loose.hi - loose.lo));
}

TEST_CASE("scalar quantiser: lossless on 8-bit data, bounded error otherwise", "[sq8]") {
  const auto px = pixels<float>(50, 20, 1);
  const auto q = detail::ScalarQuantizer8<float>(20).widened(px);
  std::vector<std::uint8_t> codes(20);
  std::vector<float> back(20);
  for (Eigen::Index i = 0; i < px.rows(); ++i) {
    q.encode(px.row(i).data(), codes.data());
    q.decode(codes.data(), back.data());
    for (int j = 0; j < 20; ++j) CHECK(back[static_cast<std::size_t>(j)] == px(i, j));
  }
  const auto g = gaussian<double>(50, 20, 2);
  const auto qg = detail::ScalarQuantizer8<double>(20).widened(g);
  std::vector<double> backd(20);
  for (Eigen::Index i = 0; i < g.rows(); ++i) {
    qg.encode(g.row(i).data(), codes.data());
    qg.decode(codes.data(), backd.data());
    for (int j = 0; j < 20; ++j) {
      const auto js = static_cast<std::size_t>(j);
      CHECK(std::abs(backd[js] - g(i, j)) <= qg.scales()[js] / 2 * (1 + 1e-9));
    }
  }
  // Widening by rows inside the range changes nothing; outside it, the range grows.
  CHECK(qg.widened(g.topRows(3)).same_codes(qg));
  RowMatrix<double> far = g.topRows(1) * 10.0;
  CHECK_FALSE(qg.widened(far).same_codes(qg));
  CHECK_THROWS_AS(detail::ScalarQuantizer8<double>::from_state({1.0}, {0.0}, {0}, true),
                  FormatError);
  // 4 bits: integers spanning at most 15 are lossless, wider ranges get 15 steps.
  RowMatrix<float> small(3, 2);
  small << 0, 0, 15, 255, 7, 17;
  const auto q4 = detail::ScalarQuantizer<float, 4>(2).widened(small);
  CHECK(q4.scales() == std::vector<float>{1.0f, 17.0f});
  for (Eigen::Index i = 0; i < 3; ++i) {
    q4.encode(small.row(i).data(), codes.data());
    CHECK(codes[0] <= 15);
    CHECK(codes[1] <= 15);
    q4.decode(codes.data(), back.data());
    CHECK(back[0] == small(i, 0));
    CHECK(back[1] == small(i, 1));  // 0, 255 and 17 are multiples of 17
  }
  const auto qg4 = detail::ScalarQuantizer<double, 4>(20).widened(g);
  for (Eigen::Index i = 0; i < g.rows(); ++i) {
    qg4.encode(g.row(i).data(), codes.data());
    qg4.decode(codes.data(), backd.data());
    for (int j = 0; j < 20; ++j) {
      const auto js = static_cast<std::size_t>(j);
      CHECK(codes[js] <= 15);
      CHECK(std::abs(backd[js] - g(i, j)) <= qg4.scales()[js] / 2 * (1 + 1e-9));
    }
  }
}

TEST_CASE("code storages: E2LSH results equal full-precision scoring, every metric", "[sq8][sq4]") {
  E2LSHParams p;
  p.num_tables = 6;
  p.num_hashes = 4;
  p.bucket_width = 4.0;
  p.num_probes = 4;
  p.seed = 11;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const auto data = clustered<float>(600, 24, seed * 10);
    const auto queries = clustered<float>(40, 24, seed * 10 + 5);
    check_both_widths<float, Euclidean>(data, queries, p, 10);
    check_both_widths<float, Cosine>(data, queries, p, 10);
    check_both_widths<double, Cosine>(data.cast<double>(), queries.cast<double>(), p, 7);
    check_both_widths<double, Euclidean>(data.cast<double>(), queries.cast<double>(), p, 10);
    E2LSHParams pm = p;
    pm.bucket_width = 16.0;
    check_both_widths<float, Manhattan>(data, queries, pm, 10);
  }
  E2LSHParams pp = p;
  pp.bucket_width = 400.0;
  check_both_widths<float, Euclidean>(pixels<float>(500, 64, 3), pixels<float>(30, 64, 4), pp, 10);
}

TEST_CASE("code storages with sketches (d >= 256): results equal full-precision scoring",
          "[sq8][sq4][sketch]") {
  E2LSHParams p;
  p.num_tables = 6;
  p.num_hashes = 4;
  p.bucket_width = 16.0;
  p.num_probes = 4;
  p.seed = 5;
  const auto data = clustered<float>(600, 288, 40);
  const auto queries = clustered<float>(30, 288, 45);
  static_assert(288 >= detail::PcaSketch<float>::kMinDim);
  check_both_widths<float, Euclidean>(data, queries, p, 10);
  check_both_widths<float, Cosine>(data, queries, p, 10);
  check_both_widths<double, Euclidean>(data.cast<double>(), queries.cast<double>(), p, 7);
  E2LSHParams pm = p;
  pm.bucket_width = 64.0;
  check_both_widths<float, Manhattan>(data, queries, pm, 10);  // no sketch: no product form
  // Pixels far from the origin (the sketch takes the mean out), k beyond the candidates.
  E2LSHParams pp = p;
  pp.bucket_width = 1600.0;
  check_both_widths<float, Euclidean>(pixels<float>(500, 320, 6), pixels<float>(20, 320, 7), pp,
                                      10);
  check_both_widths<float, Euclidean>(pixels<float>(200, 320, 8), pixels<float>(6, 320, 9), pp,
                                      250);
  // Rows added later are sketched on the first rows' basis; results stay exact.
  E2LSHIndex<float, Euclidean> flat(288, p);
  E2LSHIndex<float, Euclidean, Sq8Storage<float, Euclidean>> coded(288, p);
  flat.add(data.topRows(100));
  coded.add(data.topRows(100));
  flat.add(data.bottomRows(500) * 3.0f);
  coded.add(data.bottomRows(500) * 3.0f);
  const auto before = flat.search(queries.topRows(4), 10);
  const auto after = coded.search(queries.topRows(4), 10);
  CHECK(before.ids() == after.ids());
  CHECK(before.distances() == after.distances());
  // 128 bytes of sketch per row, beside d bytes of codes.
  CHECK(coded.memory_bytes() >= flat.memory_bytes() + 600 * (288 + 128));

  // No rows (never added, or all removed and compacted): no sketch basis, a clear error, and
  // rows added afterwards fit one.
  E2LSHIndex<float, Euclidean, Sq8Storage<float, Euclidean>> emptied(288, p);
  CHECK_THROWS_AS(emptied.search(queries.topRows(2), 1), InvalidState);
  emptied.add(data.topRows(3));
  for (Id id = 0; id < 3; ++id) emptied.remove(id);
  emptied.compact();
  CHECK(emptied.size() == 0);
  CHECK_THROWS_AS(emptied.search(queries.topRows(2), 1), InvalidState);
  emptied.add(data);
  E2LSHIndex<float, Euclidean> plain(288, p);
  plain.add(data);
  // Ids differ (the emptied index's continue after the removed ones); distances do not.
  CHECK(emptied.search(queries.topRows(4), 10).distances() ==
        plain.search(queries.topRows(4), 10).distances());
}

TEST_CASE("Sq8Storage: adds that widen the range re-code; compact keeps results", "[sq8]") {
  E2LSHParams p;
  p.num_tables = 5;
  p.num_hashes = 3;
  p.bucket_width = 4.0;
  p.num_probes = 2;
  const RowMatrix<float> data = clustered<float>(400, 16, 3);
  RowMatrix<float> wide = clustered<float>(100, 16, 4) * 3.0f;
  const auto queries = clustered<float>(30, 16, 5);
  E2LSHIndex<float, Euclidean> flat(16, p);
  E2LSHIndex<float, Euclidean, Sq8Storage<float, Euclidean>> coded(16, p);
  for (const RowMatrix<float>* rows : std::array<const RowMatrix<float>*, 2>{&data, &wide}) {
    flat.add(*rows);
    coded.add(*rows);
  }
  for (Id id = 0; id < 500; id += 3) {
    flat.remove(id);
    coded.remove(id);
  }
  auto a = flat.search(queries, 10);
  auto b = coded.search(queries, 10);
  CHECK(a.ids() == b.ids());
  CHECK(a.distances() == b.distances());
  flat.compact();
  coded.compact();
  a = flat.search(queries, 10);
  b = coded.search(queries, 10);
  CHECK(a.ids() == b.ids());
  CHECK(a.distances() == b.distances());
}

TEST_CASE("Sq8Storage: bad input", "[sq8]") {
  E2LSHIndex<float, Euclidean, Sq8Storage<float, Euclidean>> index(4);
  RowMatrix<float> bad(1, 4);
  bad << 1, 2, std::numeric_limits<float>::quiet_NaN(), 4;
  CHECK_THROWS_AS(index.add(bad), InvalidData);
  CHECK(index.size() == 0);
  CHECK_THROWS_AS((Sq8Storage<float, Euclidean>(0)), InvalidArgument);
  CHECK_THROWS_AS((Sq8Storage<float, Euclidean>(Sq8Storage<float, Euclidean>::kMaxDim + 1)),
                  InvalidArgument);
}

TEST_CASE("Sq8Storage: index files round-trip; either storage loads either file", "[sq8][file]") {
  testing::TempDir dir;
  E2LSHParams p;
  p.num_tables = 5;
  p.num_hashes = 3;
  p.bucket_width = 4.0;
  p.num_probes = 3;
  using Coded = E2LSHIndex<float, Cosine, Sq8Storage<float, Cosine>>;
  using Flat = E2LSHIndex<float, Cosine>;
  Coded coded(12, p);
  coded.add(clustered<float>(300, 12, 7));
  coded.remove(5);
  const auto queries = clustered<float>(20, 12, 8);
  const auto before = coded.search(queries, 8);

  save_index(coded, dir.file("sq8.pst"));
  const IndexFileInfo info = read_index_file_info(dir.file("sq8.pst"));
  CHECK(std::string(to_string(info.storage)) == "sq8");
  CHECK(info.format_version == kIndexFormatVersion);
  CHECK_THAT(info.description(), Catch::Contains("(sq8 storage)"));
  const Coded again = load_index<Coded>(dir.file("sq8.pst"));
  const Flat flat = load_index<Flat>(dir.file("sq8.pst"));
  const auto a = again.search(queries, 8);
  const auto b = flat.search(queries, 8);
  CHECK(a.ids() == before.ids());
  CHECK(a.distances() == before.distances());
  CHECK(b.ids() == before.ids());
  CHECK(b.distances() == before.distances());
  CHECK(again.memory_bytes() == coded.memory_bytes());
  // A mapped load codes the mapped rows into a copy of its own (only the full-precision storage
  // reads rows in place).
  const Coded mapped = load_index<Coded>(dir.file("sq8.pst"), LoadMode::map);
  CHECK(mapped.owns_data());
  CHECK(mapped.search(queries, 8).ids() == before.ids());
  CHECK_FALSE(load_index<Flat>(dir.file("sq8.pst"), LoadMode::map).owns_data());

  // A float-storage file loads into SQ8 too, and its header says "full".
  save_index(flat, dir.file("flat.pst"));
  CHECK(std::string(to_string(read_index_file_info(dir.file("flat.pst")).storage)) == "full");
  CHECK(load_index<Coded>(dir.file("flat.pst")).search(queries, 8).ids() == before.ids());

  // The storage byte is checked: unknown values and a storage on an exact index are refused.
  auto bytes = testing::read_bytes(dir.file("sq8.pst"));
  bytes[27] = 9;
  testing::fix_checksum(bytes);
  testing::write_bytes(dir.file("bad.pst"), bytes);
  CHECK_THROWS_WITH(load_index<Coded>(dir.file("bad.pst")),
                    Catch::Contains("unknown candidate storage 9"));
  ExactIndex<float, Cosine> exact(12);
  exact.add(clustered<float>(10, 12, 9));
  save_index(exact, dir.file("exact.pst"));
  bytes = testing::read_bytes(dir.file("exact.pst"));
  bytes[27] = 1;
  testing::fix_checksum(bytes);
  testing::write_bytes(dir.file("exact.pst"), bytes);
  CHECK_THROWS_WITH((load_index<ExactIndex<float, Cosine>>(dir.file("exact.pst"))),
                    Catch::Contains("candidate storage sq8 for an exact index"));

  // 4-bit codes: the header says "sq4"; every storage loads the file with the same results.
  using Coded4 = E2LSHIndex<float, Cosine, Sq4Storage<float, Cosine>>;
  const Coded4 coded4 = load_index<Coded4>(dir.file("sq8.pst"));
  CHECK(coded4.memory_bytes() <= coded.memory_bytes());  // 12 values: both pad to 64 bytes
  save_index(coded4, dir.file("sq4.pst"));
  CHECK(std::string(to_string(read_index_file_info(dir.file("sq4.pst")).storage)) == "sq4");
  for (const auto& ids : {load_index<Coded4>(dir.file("sq4.pst")).search(queries, 8).ids(),
                          load_index<Coded>(dir.file("sq4.pst")).search(queries, 8).ids(),
                          load_index<Flat>(dir.file("sq4.pst")).search(queries, 8).ids()}) {
    CHECK(ids == before.ids());
  }
}

TEST_CASE("Sq8Storage: a column whose range is subnormal codes as constant", "[sq8]") {
  // (1e-44 - 0) / 255 rounds to 0 in float: the scale must not become 0 (x / 0 is NaN, and
  // casting NaN to a code is undefined behaviour).
  RowMatrix<float> data = clustered<float>(200, 6, 21);
  for (Eigen::Index i = 0; i < data.rows(); ++i) data(i, 2) = (i % 2) ? 1e-44f : 0.0f;
  const auto queries = clustered<float>(10, 6, 22);
  E2LSHParams p;
  p.num_tables = 4;
  p.num_hashes = 3;
  p.bucket_width = 4.0;
  check_both_widths<float, Euclidean>(data, queries, p, 5);
}

TEST_CASE("the storage list maps names, types and file codes one to one", "[sq8][files]") {
  std::vector<std::string> names;
  std::vector<int> codes;
  detail::for_each_storage(Storages{}, [&](const char* name, std::uint8_t code) {
    names.emplace_back(name);
    codes.push_back(code);
  });
  CHECK(names == std::vector<std::string>{"full", "sq8", "sq4"});
  CHECK(codes == std::vector<int>{0, 1, 2});  // written into files: never renumbered
  CHECK(storage_names() == "'full', 'sq8', 'sq4'");
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(storage_name(static_cast<std::uint8_t>(codes[i])) == names[i]);
    CHECK(std::string(to_string(StorageKind{static_cast<std::uint8_t>(codes[i])})) == names[i]);
  }
  CHECK(storage_name(3) == nullptr);
  std::vector<std::string> typed;  // the same list, as types
  for_each_storage_type<float, Cosine>([&](auto* tag) {
    using S = std::remove_pointer_t<decltype(tag)>;
    static_assert(std::is_same_v<typename S::Scalar, float>);
    typed.emplace_back(S::name);
  });
  CHECK(typed == names);
  CHECK(std::string(to_string(StorageKind{200})) == "unknown");
  const auto type_of = [](const char* name) {
    return with_storage<double, Manhattan>(
        name,
        [](auto* tag) -> std::string {
          using S = std::remove_pointer_t<decltype(tag)>;
          if (std::is_same_v<S, detail::PointSet<double, Manhattan>>) return "PointSet";
          if (std::is_same_v<S, Sq8Storage<double, Manhattan>>) return "Sq8Storage";
          if (std::is_same_v<S, Sq4Storage<double, Manhattan>>) return "Sq4Storage";
          return "other";
        },
        [] { return std::string("none"); });
  };
  CHECK(type_of("full") == "PointSet");
  CHECK(type_of("sq8") == "Sq8Storage");
  CHECK(type_of("sq4") == "Sq4Storage");
  CHECK(type_of("SQ8") == "none");
  CHECK(type_of("") == "none");
}

// Queries are copied to a cache-line boundary when they do not start on one (a 16-byte-aligned
// numpy array, a message buffer): the copy must change no result, for any storage, metric and
// path (batch, one query, the exact scan).
template <class Metric, class Storage>
void check_misaligned_queries() {
  const Eigen::Index d = 40;  // rows of 160 bytes: not a whole number of lines either
  const RowMatrix<float> data = gaussian<float>(800, d, 31);
  const RowMatrix<float> queries = gaussian<float>(20, d, 32);
  E2LSHParams p;
  p.num_tables = 6;
  p.num_hashes = 6;
  p.bucket_width = 6.0;
  p.num_probes = 4;
  E2LSHIndex<float, Metric, Storage> index(d, p);
  index.add(data);
  ExactIndex<float, Metric> exact(d);
  exact.add(data);
  const auto want = index.search(queries, 5, 1);
  const auto want_exact = exact.search(queries, 5, 1);
  std::vector<float> buffer(static_cast<std::size_t>(queries.size()) + 64);
  for (std::size_t offset = 1; offset < 16;
       offset += 3) {  // 4, 16, 28, 40 and 52 bytes past a line
    float* start = detail::aligned_space(buffer, static_cast<std::size_t>(queries.size())) + offset;
    REQUIRE(start + queries.size() <= buffer.data() + buffer.size());
    Eigen::Map<RowMatrix<float>>(start, queries.rows(), d) = queries;
    const Eigen::Map<const RowMatrix<float>> shifted(start, queries.rows(), d);
    const auto got = index.search(shifted, 5, 1);
    CHECK(got.ids() == want.ids());
    CHECK(got.distances() == want.distances());
    const auto one = index.search(shifted.topRows(1), 5, 1);
    CHECK(one.ids().row(0) == want.ids().row(0));
    CHECK(one.distances().row(0) == want.distances().row(0));
    const auto scanned = exact.search(shifted, 5, 1);
    CHECK(scanned.ids() == want_exact.ids());
    CHECK(scanned.distances() == want_exact.distances());
  }
  // prepare_query: the query itself when aligned (and not normalised), else an aligned copy.
  detail::PointSet<float, Metric> rows(d);
  rows.append(data);
  std::vector<float> scratch;
  const float* aligned = detail::aligned_space(buffer, static_cast<std::size_t>(d));
  const float* prepared = rows.prepare_query(aligned + 1, scratch);
  CHECK(detail::query_aligned(prepared));
  if constexpr (!Metric::normalizes) {
    CHECK(rows.prepare_query(aligned, scratch) == aligned);
    CHECK(std::equal(prepared, prepared + d, aligned + 1));
  }
}

TEST_CASE("queries at any address give the same results", "[sq8][e2lsh][exact]") {
  check_misaligned_queries<Euclidean, detail::PointSet<float, Euclidean>>();
  check_misaligned_queries<Euclidean, Sq8Storage<float, Euclidean>>();
  check_misaligned_queries<Cosine, Sq4Storage<float, Cosine>>();
}
