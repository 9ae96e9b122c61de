#include "catch_compat.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "brute_force.hpp"
#include "file_util.hpp"
#include "test_data.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

// add(rows, ids): ids of the caller's choosing on both indexes, checked against brute force (the
// oracle knows each row's id), through remove, compact, files and the mapped load.

using namespace pstable;
using testing::gaussian;

namespace {

E2LSHParams wide_params() {  // wide buckets and many tables: nearly every neighbour is found
  E2LSHParams p;
  p.num_tables = 12;
  p.num_hashes = 3;
  p.bucket_width = 8.0;
  p.num_probes = 4;
  p.seed = 7;
  return p;
}

template <class Index>
Index make_index(Eigen::Index dim) {
  if constexpr (std::is_same_v<Index,
                               E2LSHIndex<typename Index::Scalar, typename Index::MetricType>>) {
    return Index(dim, wide_params());
  } else {
    return Index(dim);
  }
}

// Distinct ids far apart and in no order: 2^40-scale values, shuffled.
std::vector<Id> scattered_ids(std::size_t n, unsigned seed) {
  std::vector<Id> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = (Id{1} << 40) + static_cast<Id>(i) * 1000003;
  std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
  return ids;
}

// The index holds data's row r under ids[r] (unless removed); its results must be brute force's
// over the live rows, with the ids translated. E2LSH may miss a neighbour, so it is compared
// with an index of the same parameters built with default ids: the same candidates, so the same
// points under the other names.
template <class Index>
void expect_results(const Index& index, const RowMatrix<typename Index::Scalar>& data,
                    const std::vector<Id>& ids, const std::vector<bool>& live,
                    const RowMatrix<typename Index::Scalar>& queries, const char* what) {
  using T = typename Index::Scalar;
  using Metric = typename Index::MetricType;
  constexpr bool exact =
      std::is_same_v<Index, ExactIndex<typename Index::Scalar, typename Index::MetricType>>;
  const Eigen::Index k = 8;
  Index twin = make_index<Index>(data.cols());
  twin.add(data);
  for (std::size_t r = 0; r < live.size(); ++r) {
    if (!live[r]) twin.remove(static_cast<Id>(r));
  }
  for (const Eigen::Index nq : {Eigen::Index{3}, queries.rows()}) {  // one-by-one and batch paths
    const auto result = index.search(queries.topRows(nq), k);
    const auto reference = twin.search(queries.topRows(nq), k);
    for (Eigen::Index q = 0; q < nq; ++q) {
      CAPTURE(what, nq, q);
      const auto truth =
          testing::brute_force<Metric>(data, RowVector<T>(queries.row(q)), data.rows());
      std::vector<Id> expected;
      for (const auto& h : truth) {
        if (live[static_cast<std::size_t>(h.id)] && expected.size() < std::size_t(k)) {
          expected.push_back(ids[static_cast<std::size_t>(h.id)]);
        }
      }
      for (Eigen::Index j = 0; j < k; ++j) {
        CAPTURE(j);
        const Id row = reference.ids()(q, j);
        CHECK(result.ids()(q, j) == (row < 0 ? -1 : ids[static_cast<std::size_t>(row)]));
        CHECK(result.distances()(q, j) == reference.distances()(q, j));
        if (exact) CHECK(result.ids()(q, j) == expected[static_cast<std::size_t>(j)]);
      }
    }
  }
  // Range search and filters see the same ids.
  const T radius = Metric::is_similarity ? T(0.2) : T(2.5);
  const auto range = index.search_radius(queries, radius);
  const auto twin_range = twin.search_radius(queries, radius);
  REQUIRE(range.total() == twin_range.total());
  for (Eigen::Index i = 0; i < range.total(); ++i) {
    CHECK(range.ids()(i) == ids[static_cast<std::size_t>(twin_range.ids()(i))]);
  }
  std::map<Id, Id> rows;
  for (std::size_t r = 0; r < ids.size(); ++r) rows[ids[r]] = static_cast<Id>(r);
  const std::map<Id, Id>& row_of = rows;  // read concurrently by the search threads
  const auto odd_rows =
      index.search_filtered(queries, k, [&](Id id) { return row_of.at(id) % 2 == 1; });
  const auto twin_odd = twin.search_filtered(queries, k, [](Id row) { return row % 2 == 1; });
  for (Eigen::Index i = 0; i < odd_rows.ids().size(); ++i) {
    const Id row = twin_odd.ids().data()[i];
    CHECK(odd_rows.ids().data()[i] == (row < 0 ? -1 : ids[static_cast<std::size_t>(row)]));
  }
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("user ids name the points through search, remove, compact and files",
                           "[ids]", (ExactIndex, E2LSHIndex),
                           ((float, Euclidean), (double, Cosine), (float, Manhattan))) {
  using T = typename TestType::Scalar;
  const RowMatrix<T> data = gaussian<T>(300, 6, 61);
  const RowMatrix<T> queries = gaussian<T>(24, 6, 62);
  const std::vector<Id> ids = scattered_ids(300, 63);
  TestType index = make_index<TestType>(6);
  index.add(data.topRows(200), std::vector<Id>(ids.begin(), ids.begin() + 200));
  index.add(data.bottomRows(100), std::vector<Id>(ids.begin() + 200, ids.end()));
  CHECK(index.size() == 300);
  CHECK(index.ids() == ids);  // insertion order
  CHECK(index.next_id() == *std::max_element(ids.begin(), ids.end()) + 1);
  for (const Id id : ids) CHECK(index.contains(id));
  CHECK_FALSE(index.contains(0));
  CHECK_FALSE(index.contains(ids[0] + 1));
  std::vector<bool> live(300, true);
  expect_results(index, data, ids, live, queries, "added");

  for (std::size_t r = 0; r < 300; r += 4) {
    index.remove(ids[r]);
    live[r] = false;
  }
  CHECK_FALSE(index.contains(ids[0]));
  CHECK_THROWS_AS(index.remove(ids[0]), InvalidArgument);
  std::vector<Id> live_ids;
  for (std::size_t r = 0; r < 300; ++r) {
    if (live[r]) live_ids.push_back(ids[r]);
  }
  CHECK(index.ids() == live_ids);
  expect_results(index, data, ids, live, queries, "removed");

  testing::TempDir dir;
  save_index(index, dir.file("ids.pst"));
  CHECK(read_index_file_info(dir.file("ids.pst")).format_version == kIndexFormatVersion);
  expect_results(load_index<TestType>(dir.file("ids.pst")), data, ids, live, queries, "loaded");
  expect_results(load_index<TestType>(dir.file("ids.pst"), LoadMode::map), data, ids, live, queries,
                 "mapped");

  index.compact();
  CHECK(index.num_removed() == 0);
  expect_results(index, data, ids, live, queries, "compacted");
  save_index(index, dir.file("compacted.pst"));
  expect_results(load_index<TestType>(dir.file("compacted.pst")), data, ids, live, queries,
                 "compacted, loaded");

  // A removed id is free again after the compaction; adds without ids continue past the largest.
  const Id next = index.next_id();
  index.add(data.topRows(1), std::vector<Id>{ids[0]});
  CHECK(index.contains(ids[0]));
  index.add(data.middleRows(1, 2));
  CHECK(index.contains(next));
  CHECK(index.contains(next + 1));
  CHECK(index.next_id() == next + 2);
}

TEMPLATE_PRODUCT_TEST_CASE("bad user ids are refused with the id named and nothing changed",
                           "[ids][errors]", (ExactIndex, E2LSHIndex), ((float, Euclidean))) {
  using T = typename TestType::Scalar;
  const RowMatrix<T> data = gaussian<T>(10, 4, 71);
  TestType index = make_index<TestType>(4);
  index.add(data.topRows(4), {10, 30, 20, 40});
  index.remove(30);
  const auto before = index.search(data, 3);
  const auto refused = [&](const std::vector<Id>& ids, const char* message) {
    CAPTURE(message);
    CHECK_THROWS_WITH(index.add(data.topRows(static_cast<Eigen::Index>(ids.size())), ids),
                      Catch::Contains(message));
    CHECK(index.size() == 3);
    CHECK(index.next_id() == 41);
    const auto after = index.search(data, 3);
    CHECK(after.ids() == before.ids());
    CHECK(after.distances() == before.distances());
  };
  refused({1, -5}, "ids must lie in [0, 2^62), got -5");
  refused({Id{1} << 62}, "got 4611686018427387904");
  refused({1, 2, 1}, "id 1 appears twice");
  refused({5, 20}, "id 20 is already in the index");
  refused({30}, "id 30 was removed but is held until compact()");
  CHECK_THROWS_WITH(index.add(data.topRows(2), std::vector<Id>{1}),
                    Catch::Contains("add got 2 rows but 1 ids"));
  CHECK(index.size() == 3);
  index.add(data.topRows(0), std::vector<Id>{});  // nothing to add
  CHECK(index.size() == 3);
  index.add(data.middleRows(4, 2), {2, 3});
  CHECK(index.contains(2));
  CHECK(index.contains(3));
  CHECK(index.next_id() == 41);
  CHECK_THROWS_WITH(index.remove(41), Catch::Contains("id 41 is not in the index"));
}

TEMPLATE_PRODUCT_TEST_CASE("equal distances are ordered by id, whatever the insertion order",
                           "[ids]", (ExactIndex, E2LSHIndex),
                           ((float, Euclidean), (double, Manhattan))) {
  using T = typename TestType::Scalar;
  // Six copies of one point under ids 60, 50, ..., 10, one far point, and queries on the point:
  // every query must get the copies from the smallest id up, on both search paths.
  RowMatrix<T> data(7, 3);
  for (Eigen::Index r = 0; r < 6; ++r) data.row(r) << T(1), T(2), T(3);
  data.row(6) << T(40), T(40), T(40);
  TestType index = make_index<TestType>(3);
  index.add(data, {60, 50, 40, 30, 20, 10, 5});
  for (const Eigen::Index nq : {Eigen::Index{1}, Eigen::Index{20}}) {
    const RowMatrix<T> queries = data.topRows(1).replicate(nq, 1);
    const auto result = index.search(queries, 4);
    for (Eigen::Index q = 0; q < nq; ++q) {
      CAPTURE(nq, q);
      CHECK(result.ids()(q, 0) == 10);
      CHECK(result.ids()(q, 1) == 20);
      CHECK(result.ids()(q, 2) == 30);
      CHECK(result.ids()(q, 3) == 40);
    }
  }
}

TEST_CASE("ids in increasing order keep the id map cheap; mixed adds stay consistent", "[ids]") {
  ExactIndex<float, Euclidean> index(2);
  const RowMatrix<float> data = gaussian<float>(50, 2, 81);
  index.add(data.topRows(10));  // ids 0 .. 9
  index.add(data.middleRows(10, 10),
            {10, 11, 12, 13, 14, 15, 16, 17, 18, 19});  // consecutive: still no id map
  std::vector<Id> rising(10);
  std::iota(rising.begin(), rising.end(), Id{100});
  index.add(data.middleRows(20, 10), rising);  // increasing: an id map, no lookup table
  index.add(data.middleRows(30, 5));           // defaults continue at 110
  CHECK(index.contains(114));
  index.add(data.middleRows(35, 5), {7000, 50, 51, 52, 53});  // out of order: a lookup table
  index.add(data.bottomRows(10));                             // defaults continue at 7001
  std::vector<Id> expected;
  for (Id i = 0; i < 20; ++i) expected.push_back(i);
  for (Id i = 100; i < 115; ++i) expected.push_back(i);
  for (const Id id : {7000, 50, 51, 52, 53}) expected.push_back(id);
  for (Id i = 7001; i < 7011; ++i) expected.push_back(i);
  REQUIRE(expected.size() == 50);
  for (const Id id : expected) CHECK(index.contains(id));
  CHECK(index.size() == 50);
  // Each point finds itself under its own id.
  const auto self = index.search(data, 1);
  for (Eigen::Index r = 0; r < 50; ++r) CHECK(self.ids()(r, 0) == expected[std::size_t(r)]);
  for (Id id = 20; id < 100; ++id) {
    if (id < 50 || id > 53) CHECK_FALSE(index.contains(id));
  }
}
