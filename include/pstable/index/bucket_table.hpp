#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "pstable/config.hpp"

namespace pstable::detail {

/// A (key, row) pair of one table.
struct KeyedRow {
  std::uint64_t key;
  std::uint32_t row;
};

inline bool key_then_row(const KeyedRow& a, const KeyedRow& b) noexcept {
  return a.key < b.key || (a.key == b.key && a.row < b.row);
}

/// Sorts keys[0, n) ascending and moves rows[i] along with keys[i], stably (rows of equal keys
/// keep their order): an LSD radix sort, 8 bits per pass, that skips the passes whose digit is
/// the same in every key. O(n) time whatever the keys; `key_buffer` and `row_buffer` are scratch
/// (resized to n), to reuse across calls.
inline void radix_sort_by_key(std::uint64_t* keys, std::uint32_t* rows, std::size_t n,
                              std::vector<std::uint64_t>& key_buffer,
                              std::vector<std::uint32_t>& row_buffer) {
  if (n < 2) return;
  constexpr int kPasses = 8;
  std::vector<std::size_t> counts(kPasses * 256, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t key = keys[i];
    for (int d = 0; d < kPasses; ++d) {
      ++counts[static_cast<std::size_t>(d) * 256 + ((key >> (8 * d)) & 255)];
    }
  }
  key_buffer.resize(n);
  row_buffer.resize(n);
  std::uint64_t* key_from = keys;
  std::uint32_t* row_from = rows;
  std::uint64_t* key_to = key_buffer.data();
  std::uint32_t* row_to = row_buffer.data();
  for (int d = 0; d < kPasses; ++d) {
    std::size_t* start = counts.data() + d * 256;
    const int shift = 8 * d;
    if (start[(key_from[0] >> shift) & 255] == n) continue;  // one digit value: order unchanged
    std::size_t sum = 0;
    for (int v = 0; v < 256; ++v) sum += std::exchange(start[v], sum);  // counts -> first slots
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t to = start[(key_from[i] >> shift) & 255]++;
      key_to[to] = key_from[i];
      row_to[to] = row_from[i];
    }
    std::swap(key_from, key_to);
    std::swap(row_from, row_to);
  }
  if (key_from != keys) {
    std::copy(key_from, key_from + n, keys);
    std::copy(row_from, row_from + n, rows);
  }
}

/// One hash table of an E2LSH index, stored flat (no node per bucket):
/// - `rows_`: every row id (uint32), grouped by bucket, ascending within a bucket;
/// - `keys_`: the distinct bucket keys, sorted; `offsets_[b] .. offsets_[b + 1]` is bucket b
///   in `rows_`;
/// - `directory_`: the keys are well mixed, so their top bits are uniform; entry d is the first
///   bucket whose key's top bits are >= d. A lookup reads one directory pair and scans the few
///   keys (about 2) between them: O(1) expected, three cache lines.
/// Memory: 4 bytes per row, 12 per bucket and about 2 per bucket for the directory.
class BucketTable {
 public:
  /// A bucket's rows, [begin, end).
  struct Range {
    const std::uint32_t* begin = nullptr;
    const std::uint32_t* end = nullptr;
    std::size_t size() const noexcept { return static_cast<std::size_t>(end - begin); }
  };

  /// Builds from pairs sorted by key_then_row.
  void assign_sorted(const std::vector<KeyedRow>& pairs) {
    std::vector<std::uint64_t> keys;
    std::vector<std::uint32_t> offsets;
    std::vector<std::uint32_t> rows(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      PSTABLE_ASSERT(i == 0 || !key_then_row(pairs[i], pairs[i - 1]));
      rows[i] = pairs[i].row;
      if (i == 0 || pairs[i].key != pairs[i - 1].key) {
        keys.push_back(pairs[i].key);
        offsets.push_back(static_cast<std::uint32_t>(i));
      }
    }
    offsets.push_back(static_cast<std::uint32_t>(pairs.size()));
    assign(std::move(keys), std::move(offsets), std::move(rows));
  }

  /// Builds from `rows` grouped by key: row rows[i] has key sorted_keys[i], the keys ascending
  /// (repeated once per row) and the rows ascending within each key.
  void assign_grouped(const std::uint64_t* sorted_keys, std::vector<std::uint32_t> rows) {
    const std::size_t n = rows.size();
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      PSTABLE_ASSERT(i == 0 || sorted_keys[i - 1] < sorted_keys[i] ||
                     (sorted_keys[i - 1] == sorted_keys[i] && rows[i - 1] < rows[i]));
      distinct += i == 0 || sorted_keys[i] != sorted_keys[i - 1];
    }
    std::vector<std::uint64_t> keys(distinct);
    std::vector<std::uint32_t> offsets(distinct + 1);
    std::size_t b = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i == 0 || sorted_keys[i] != sorted_keys[i - 1]) {
        keys[b] = sorted_keys[i];
        offsets[b++] = static_cast<std::uint32_t>(i);
      }
    }
    offsets[distinct] = static_cast<std::uint32_t>(n);
    assign(std::move(keys), std::move(offsets), std::move(rows));
  }

  /// Builds from the flat arrays as keys(), offsets() and rows() return them: keys strictly
  /// ascending, offsets.size() == keys.size() + 1 from 0 to rows.size(), strictly increasing,
  /// rows ascending within a bucket (an index file's tables, checked by the caller).
  void assign(std::vector<std::uint64_t> keys, std::vector<std::uint32_t> offsets,
              std::vector<std::uint32_t> rows) {
    PSTABLE_ASSERT(offsets.size() == keys.size() + 1 && offsets.back() == rows.size());
    int bits = 0;
    while ((std::size_t{2} << bits) < keys.size() && bits < 30) ++bits;  // ~2 keys per entry
    std::vector<std::uint32_t> directory((std::size_t{1} << bits) + 1);
    std::size_t b = 0;
    for (std::size_t d = 0; d + 1 < directory.size(); ++d) {
      while (b < keys.size() && top_bits(keys[b], bits) < d) ++b;
      directory[d] = static_cast<std::uint32_t>(b);
    }
    directory.back() = static_cast<std::uint32_t>(keys.size());
    keys.shrink_to_fit();
    offsets.shrink_to_fit();
    keys_.swap(keys);
    offsets_.swap(offsets);
    rows_.swap(rows);
    directory_.swap(directory);
    bits_ = bits;
  }

  /// The rows whose key is `key` (empty when none).
  Range find(std::uint64_t key) const noexcept {
    if (keys_.empty()) return {};
    const std::size_t d = top_bits(key, bits_);
    for (std::uint32_t b = directory_[d], e = directory_[d + 1]; b < e; ++b) {
      if (keys_[b] == key) return {rows_.data() + offsets_[b], rows_.data() + offsets_[b + 1]};
      if (keys_[b] > key) break;
    }
    return {};
  }

  // Lookups in three steps, so that a query can overlap the memory accesses of many lookups:
  // prefetch_directory(key); b = locate(key) and prefetch_bucket(b); find_from(b, key).
  void prefetch_directory(std::uint64_t key) const noexcept {
    if (!keys_.empty()) __builtin_prefetch(&directory_[top_bits(key, bits_)]);
  }
  std::uint32_t locate(std::uint64_t key) const noexcept {
    return keys_.empty() ? 0 : directory_[top_bits(key, bits_)];
  }
  void prefetch_bucket(std::uint32_t b) const noexcept {
    if (b < keys_.size()) {
      __builtin_prefetch(&keys_[b]);
      __builtin_prefetch(&offsets_[b]);
    }
  }
  /// find(key), given b = locate(key).
  Range find_from(std::uint32_t b, std::uint64_t key) const noexcept {
    if (keys_.empty()) return {};
    for (const std::uint32_t e = directory_[top_bits(key, bits_) + 1]; b < e; ++b) {
      if (keys_[b] == key) return {rows_.data() + offsets_[b], rows_.data() + offsets_[b + 1]};
      if (keys_[b] > key) break;
    }
    return {};
  }

  /// Every (key, row) pair, sorted by key then row: what `assign_sorted` was given.
  std::vector<KeyedRow> pairs() const {
    std::vector<KeyedRow> out;
    out.reserve(rows_.size());
    for (std::size_t b = 0; b < keys_.size(); ++b) {
      for (std::uint32_t i = offsets_[b]; i < offsets_[b + 1]; ++i)
        out.push_back({keys_[b], rows_[i]});
    }
    return out;
  }

  std::size_t num_rows() const noexcept { return rows_.size(); }
  std::size_t num_buckets() const noexcept { return keys_.size(); }
  const std::vector<std::uint64_t>& keys() const noexcept { return keys_; }
  const std::vector<std::uint32_t>& offsets() const noexcept { return offsets_; }
  const std::vector<std::uint32_t>& rows() const noexcept { return rows_; }

  std::size_t memory_bytes() const noexcept {
    return keys_.capacity() * sizeof(std::uint64_t) +
           (offsets_.capacity() + rows_.capacity() + directory_.capacity()) * sizeof(std::uint32_t);
  }

 private:
  static std::size_t top_bits(std::uint64_t key, int bits) noexcept {
    return bits == 0 ? 0 : static_cast<std::size_t>(key >> (64 - bits));
  }

  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint32_t> rows_;
  std::vector<std::uint32_t> directory_;
  int bits_ = 0;
};

/// The table holding the pairs of `older` and of `newer`, where every row of `newer` is greater
/// than every row of `older` (rows appended later): a bucket in both gets older's rows, then
/// newer's. Equal to assign_sorted of both tables' pairs merged in key_then_row order, without
/// the pairs.
inline BucketTable merge_tables(const BucketTable& older, const BucketTable& newer) {
  const auto& ka = older.keys();
  const auto& kb = newer.keys();
  const auto& oa = older.offsets();
  const auto& ob = newer.offsets();
  const auto& ra = older.rows();
  const auto& rb = newer.rows();
  PSTABLE_ASSERT(ra.empty() || rb.empty() ||
                 *std::max_element(ra.begin(), ra.end()) < *std::min_element(rb.begin(), rb.end()));
  std::size_t distinct = 0;
  for (std::size_t a = 0, b = 0; a < ka.size() || b < kb.size(); ++distinct) {
    if (b == kb.size() || (a < ka.size() && ka[a] < kb[b])) {
      ++a;
    } else if (a == ka.size() || kb[b] < ka[a]) {
      ++b;
    } else {
      ++a;
      ++b;
    }
  }
  std::vector<std::uint64_t> keys(distinct);
  std::vector<std::uint32_t> offsets(distinct + 1);
  std::vector<std::uint32_t> rows(ra.size() + rb.size());
  std::size_t out = 0, a = 0, b = 0;
  const auto take = [&](const std::vector<std::uint32_t>& from, std::uint32_t begin,
                        std::uint32_t end) {
    std::copy(from.data() + begin, from.data() + end, rows.data() + out);
    out += end - begin;
  };
  for (std::size_t d = 0; d < distinct; ++d) {
    offsets[d] = static_cast<std::uint32_t>(out);
    const bool from_a = a < ka.size() && (b == kb.size() || ka[a] <= kb[b]);
    const bool from_b = b < kb.size() && (a == ka.size() || kb[b] <= ka[a]);
    keys[d] = from_a ? ka[a] : kb[b];
    if (from_a) {
      take(ra, oa[a], oa[a + 1]);
      ++a;
    }
    if (from_b) {
      take(rb, ob[b], ob[b + 1]);
      ++b;
    }
  }
  offsets[distinct] = static_cast<std::uint32_t>(out);
  BucketTable merged;
  merged.assign(std::move(keys), std::move(offsets), std::move(rows));
  return merged;
}

/// Builds BucketTables from one key per row (radix_sort_by_key, then assign_grouped), keeping
/// its scratch buffers from one table to the next: the one path by which E2LSHIndex::add and
/// tune_e2lsh build their tables.
class TableBuilder {
 public:
  /// Fills `out` with rows first, first + 1, ..., first + n - 1, row first + i under keys[i].
  /// Sorts `keys` in place: callers pass scratch they no longer need.
  void build(std::uint64_t* keys, std::size_t n, std::uint32_t first, BucketTable& out) {
    std::vector<std::uint32_t> rows(n);
    std::iota(rows.begin(), rows.end(), first);
    radix_sort_by_key(keys, rows.data(), n, key_buffer_, row_buffer_);
    out.assign_grouped(keys, std::move(rows));
  }

 private:
  std::vector<std::uint64_t> key_buffer_;
  std::vector<std::uint32_t> row_buffer_;
};

/// The L tables of an index after adding `count` rows numbered from `first`, whose keys are
/// keys[t * count + i] (sorted in place): each table is built, or merged into `old[t]` when that
/// already holds rows. The one table builder of E2LSHIndex::add and tune_e2lsh.
inline std::vector<BucketTable> build_tables(std::uint64_t* keys, std::size_t count,
                                             std::uint32_t first,
                                             const std::vector<BucketTable>& old,
                                             TableBuilder& builder) {
  std::vector<BucketTable> tables(old.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    std::uint64_t* table_keys = keys + t * count;
    if (old[t].num_rows() == 0) {
      builder.build(table_keys, count, first, tables[t]);
    } else {
      BucketTable added;
      builder.build(table_keys, count, first, added);
      tables[t] = merge_tables(old[t], added);
    }
  }
  return tables;
}

}  // namespace pstable::detail
