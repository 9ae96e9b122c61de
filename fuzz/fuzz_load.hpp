#pragma once

// Loads an index file of the kind `Kind` with the type its header names, then searches it, so
// that a crafted file which loads must also be safe to use. With `repair`, the harness first
// sets the header's file size and recomputes the CRC-32 trailer (like the tests' fix_checksum),
// so the fuzzer reaches the checks behind the checksum. A file that loads is also loaded through a
// mapping, which must answer the same.

#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"

namespace pstable::fuzz {

inline void repair_checksum(std::vector<std::uint8_t>& b) {
  if (b.size() < 64 + 8) return;
  detail::store_le<std::uint64_t>(b.data() + 16, b.size());
  const auto crc =
      static_cast<std::uint32_t>(::crc32(0, b.data(), static_cast<uInt>(b.size() - 8)));
  detail::store_le<std::uint32_t>(b.data() + b.size() - 8, crc);
  std::memcpy(b.data() + b.size() - 4, "PEND", 4);
}

template <class Index>
void load_and_search(const std::string& path) {
  const Index index = load_index<Index>(path);
  // A file that loads by copy loads the same through a mapping (LoadMode::map).
  const Index mapped = load_index<Index>(path, LoadMode::map);
  if (index.dim() > 4096) return;
  using T = typename Index::Scalar;
  RowMatrix<T> queries = RowMatrix<T>::Ones(2, index.dim());
  queries(1, 0) = T(-3);
  const auto found = index.search(queries, 3);
  if (mapped.search(queries, 3).ids() != found.ids()) {
    std::fprintf(stderr, "the mapped load answers differently from the copied load\n");
    std::abort();
  }
  for (Eigen::Index i = 0; i < found.ids().size(); ++i) {
    const Id id = found.ids().data()[i];
    if (id >= 0 && !index.contains(id)) {
      std::fprintf(stderr, "search returned id %lld, which the index does not hold\n",
                   static_cast<long long>(id));
      std::abort();
    }
  }
}

/// The index kinds a fuzz target loads: Kind::type<T, Metric> is the index type.
struct ExactKind {
  template <class T, class M>
  using type = ExactIndex<T, M>;
};
struct E2LSHKind {
  template <class T, class M>
  using type = E2LSHIndex<T, M>;
};

template <class Kind>
void load_any(const std::string& path) {
  const IndexFileInfo info = read_index_file_info(path);
  const bool f32 = info.scalar == ScalarType::float32;
  with_metric_code(
      static_cast<std::uint8_t>(info.metric),
      [&](auto m) {
        using M = decltype(m);
        if constexpr (std::is_same_v<Kind, ExactKind> || has_lsh_family_v<M>) {
          using F = typename Kind::template type<float, M>;
          using D = typename Kind::template type<double, M>;
          f32 ? load_and_search<F>(path) : load_and_search<D>(path);
        }
      },
      [] {});
}

template <class Kind>
int fuzz_load(const std::uint8_t* data, std::size_t size, bool repair) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (repair) repair_checksum(bytes);
  const std::string& path = scratch_path(".pst");
  write_file(path, bytes.data(), bytes.size());
  expect_pstable_errors_only([&] { load_any<Kind>(path); });
  return 0;
}

}  // namespace pstable::fuzz
