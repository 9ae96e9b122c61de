#include "catch_compat.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "pstable/index/bucket_table.hpp"
#include "pstable/index/hashing.hpp"

using namespace pstable;

namespace {

// Key sets that exercise every pass of the radix sort and its skipping of constant digits.
std::vector<std::uint64_t> make_keys(int kind, std::size_t n, std::mt19937_64& rng) {
  std::vector<std::uint64_t> keys(n);
  for (auto& key : keys) {
    switch (kind) {
      case 0: key = rng(); break;                                 // distinct, every byte varies
      case 1: key = detail::mix64(rng() % (n / 4 + 1)); break;    // mixed keys, many repeated
      case 2: key = rng() % 5; break;                             // only the lowest byte varies
      case 3: key = (rng() % 3) << 56; break;                     // only the highest byte varies
      case 4: key = 0xDEADBEEFULL; break;                         // one key
      default: key = (rng() % 7) * 0x0101010101010101ULL; break;  // every byte, few values
    }
  }
  return keys;
}

bool same_order(const std::vector<std::uint64_t>& keys, const std::vector<std::uint32_t>& rows,
                const std::vector<detail::KeyedRow>& expected) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (keys[i] != expected[i].key || rows[i] != expected[i].row) return false;
  }
  return keys.size() == expected.size() && rows.size() == expected.size();
}

bool same_table(const detail::BucketTable& a, const detail::BucketTable& b) {
  return a.keys() == b.keys() && a.offsets() == b.offsets() && a.rows() == b.rows();
}

// The table assign_sorted builds from the pairs sorted with std::sort: the reference.
detail::BucketTable sorted_table(const std::vector<std::uint64_t>& keys, std::uint32_t first) {
  std::vector<detail::KeyedRow> pairs;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    pairs.push_back({keys[i], first + static_cast<std::uint32_t>(i)});
  }
  std::sort(pairs.begin(), pairs.end(), detail::key_then_row);
  detail::BucketTable table;
  table.assign_sorted(pairs);
  return table;
}

}  // namespace

TEST_CASE("radix_sort_by_key sorts like a stable std::sort on the key", "[buckets]") {
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> key_buffer;
  std::vector<std::uint32_t> row_buffer;
  for (int kind = 0; kind < 6; ++kind) {
    for (std::size_t n : {0, 1, 2, 33, 4000}) {
      CAPTURE(kind, n);
      auto keys = make_keys(kind, n, rng);
      // Rows in random order, so that stability is visible.
      std::vector<std::uint32_t> rows(n);
      std::iota(rows.begin(), rows.end(), 0u);
      std::shuffle(rows.begin(), rows.end(), rng);
      std::vector<detail::KeyedRow> expected;
      for (std::size_t i = 0; i < n; ++i) expected.push_back({keys[i], rows[i]});
      std::stable_sort(
          expected.begin(), expected.end(),
          [](const detail::KeyedRow& a, const detail::KeyedRow& b) { return a.key < b.key; });
      detail::radix_sort_by_key(keys.data(), rows.data(), n, key_buffer, row_buffer);
      CHECK(same_order(keys, rows, expected));
      // Ascending rows come out as std::sort by (key, row) orders them.
      std::iota(rows.begin(), rows.end(), 0u);
      keys = make_keys(kind, n, rng);
      expected.clear();
      for (std::size_t i = 0; i < n; ++i) expected.push_back({keys[i], rows[i]});
      std::sort(expected.begin(), expected.end(), detail::key_then_row);
      detail::radix_sort_by_key(keys.data(), rows.data(), n, key_buffer, row_buffer);
      CHECK(same_order(keys, rows, expected));
    }
  }
}

TEST_CASE("TableBuilder builds the table assign_sorted builds from sorted pairs", "[buckets]") {
  std::mt19937_64 rng(12);
  detail::TableBuilder builder;  // reused: its buffers must not leak between tables
  for (int kind = 0; kind < 6; ++kind) {
    for (std::size_t n : {0, 1, 50, 3000}) {
      for (std::uint32_t first : {0u, 1000u}) {
        CAPTURE(kind, n, first);
        const auto keys = make_keys(kind, n, rng);
        detail::BucketTable built;
        auto scratch = keys;  // build sorts its keys in place
        builder.build(scratch.data(), n, first, built);
        CHECK(same_table(built, sorted_table(keys, first)));
        CHECK(built.num_rows() == n);
        for (std::size_t i = 0; i < std::min<std::size_t>(n, 20); ++i) {
          const auto r = built.find(keys[i]);
          CHECK(std::find(r.begin, r.end, first + static_cast<std::uint32_t>(i)) != r.end);
        }
      }
    }
  }
}

TEST_CASE("merge_tables equals assign_sorted of the merged pairs", "[buckets]") {
  std::mt19937_64 rng(13);
  for (int kind = 0; kind < 6; ++kind) {
    for (std::size_t na : {0, 1, 700}) {
      for (std::size_t nb : {0, 1, 500}) {
        CAPTURE(kind, na, nb);
        // Keys drawn from one pool, so that many buckets hold rows of both tables.
        const auto pool = make_keys(kind, na + nb, rng);
        const auto split = pool.begin() + static_cast<std::ptrdiff_t>(na);
        const std::vector<std::uint64_t> ka(pool.begin(), split);
        const std::vector<std::uint64_t> kb(split, pool.end());
        const auto older = sorted_table(ka, 0);
        const auto newer = sorted_table(kb, static_cast<std::uint32_t>(na) + 3);
        detail::BucketTable expected;
        const auto a = older.pairs(), b = newer.pairs();
        std::vector<detail::KeyedRow> pairs(a.size() + b.size());
        std::merge(a.begin(), a.end(), b.begin(), b.end(), pairs.begin(), detail::key_then_row);
        expected.assign_sorted(pairs);
        const auto merged = detail::merge_tables(older, newer);
        CHECK(same_table(merged, expected));
        CHECK(merged.num_rows() == na + nb);
        if (na + nb > 0) CHECK(merged.find(pool.back()).size() > 0);
      }
    }
  }
}
