// Opening the Fashion-MNIST E2LSH index (60,000 training images, L = 26, k = 12, w = 15.119,
// 30 probes, m = 4: the tuned index of docs/benchmarks.md), one thread, the file in the page cache:
//   load/e2lsh/build  building it from the rows (hashing, sorting the tables)
//   load/e2lsh/copy   load_index from its file (LoadMode::copy: read, checksum, copy)
//   load/e2lsh/map    load_index with LoadMode::map (checksum over the mapping, rows in place)
// Each iteration also destroys the index. The goal of docs/file-format.md's mapped loading:
// map <= 0.1 x build. The data comes from fashion_mnist() (bench_search.cpp); without it the
// benchmarks are skipped with a message.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "benchmarks.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/io/index_file.hpp"

namespace pstable_bench {

namespace {

using Index = pstable::E2LSHIndex<float, pstable::Euclidean>;

pstable::E2LSHParams fashion_params() {
  pstable::E2LSHParams p;
  p.num_tables = 26;
  p.num_hashes = 12;
  p.bucket_width = 15.119;
  p.num_probes = 30;
  p.min_collisions = 4;
  return p;
}

Index build(const FashionMnist& data) {
  Index index(data.train.cols(), fashion_params());
  index.add(data.train);
  return index;
}

// The index file, saved once per run in the temp directory and deleted at exit.
struct SavedIndex {
  std::string path;
  SavedIndex() {
    const auto& data = fashion_mnist();
    if (!data.error.empty()) return;
    path = (std::filesystem::temp_directory_path() /
            ("pstable-bench-load-" + std::to_string(::getpid()) + ".pst"))
               .string();
    pstable::save_index(build(data), path);
  }
  ~SavedIndex() {
    if (!path.empty()) std::filesystem::remove(path);
  }
};

const std::string& saved_path() {
  static const SavedIndex saved;
  return saved.path;
}

void load_build(benchmark::State& state) {
  const auto& data = fashion_mnist();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  for (auto _ : state) {
    const Index index = build(data);
    benchmark::DoNotOptimize(index.size());
  }
  state.SetLabel(std::to_string(data.train.rows()) + " rows, L=26 k=12");
}

template <pstable::LoadMode Mode>
void load_file(benchmark::State& state) {
  const auto& data = fashion_mnist();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const std::string& path = saved_path();
  (void)pstable::load_index<Index>(path, Mode);  // the file in the page cache before timing
  for (auto _ : state) {
    const Index index = pstable::load_index<Index>(path, Mode);
    benchmark::DoNotOptimize(index.size());
  }
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(path));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetLabel(std::to_string(bytes >> 20) + " MiB file");
}

}  // namespace

void register_load_benchmarks() {
  benchmark::RegisterBenchmark("load/e2lsh/build", load_build)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("load/e2lsh/copy", load_file<pstable::LoadMode::copy>)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("load/e2lsh/map", load_file<pstable::LoadMode::map>)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace pstable_bench
