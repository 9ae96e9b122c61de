// Exact search on Fashion-MNIST (60,000 training images as the database, the first 2,000 test
// images as queries, pixels scaled to [0, 1], k = 10, one thread):
//   search/exact_scan/<metric>    one query per call: the streaming scan with the SIMD kernels;
//                                 bytes_per_second = database bytes read (compare bandwidth/stream_sum)
//   search/exact_batch/<metric>   2,000 queries per call: the GEMM path; items_per_second = q/s
// The data folder is $PSTABLE_FASHION_MNIST or /usr/share/datasets/fashion-mnist; without it the
// benchmarks are skipped with a message.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "benchmarks.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/idx.hpp"

namespace pstable_bench {

const FashionMnist& fashion_mnist() {
  constexpr Eigen::Index kNumQueries = 2000;
  static const FashionMnist data = [] {
    FashionMnist d;
    const char* env = std::getenv("PSTABLE_FASHION_MNIST");
    const std::string dir = env ? env : "/usr/share/datasets/fashion-mnist";
    try {
      d.train = pstable::read_idx_images<float>(dir + "/train-images-idx3-ubyte.gz");
      d.queries =
          pstable::read_idx_images<float>(dir + "/t10k-images-idx3-ubyte.gz").topRows(kNumQueries);
    } catch (const pstable::Error& e) {
      d.error = std::string("Fashion-MNIST not available (") + e.what() +
                "); run scripts/setup.sh data or set PSTABLE_FASHION_MNIST";
    }
    return d;
  }();
  return data;
}

namespace {

constexpr Eigen::Index kK = 10;

template <class Metric>
void exact_scan(benchmark::State& state) {
  const auto& data = fashion_mnist();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const auto index = pstable::ExactIndex<float, Metric>::borrow(
      data.train.data(), data.train.rows(), data.train.cols());
  Eigen::Index q = 0;
  for (auto _ : state) {
    auto result = index.search(data.queries.middleRows(q, 1), kK, 1);
    benchmark::DoNotOptimize(result.ids().data());
    q = (q + 1) % data.queries.rows();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(data.train.size() * sizeof(float)));
  state.SetLabel(pstable::simd::kernels<float>().arch);
}

template <class Metric>
void exact_batch(benchmark::State& state) {
  const auto& data = fashion_mnist();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const auto index = pstable::ExactIndex<float, Metric>::borrow(
      data.train.data(), data.train.rows(), data.train.cols());
  for (auto _ : state) {
    auto result = index.search(data.queries, kK, 1);
    benchmark::DoNotOptimize(result.ids().data());
  }
  state.SetItemsProcessed(state.iterations() * data.queries.rows());
  state.SetLabel(std::string("eigen simd: ") + Eigen::SimdInstructionSetsInUse());
}

}  // namespace

void register_search_benchmarks() {
  benchmark::RegisterBenchmark("search/exact_scan/euclidean", exact_scan<pstable::Euclidean>)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("search/exact_scan/cosine", exact_scan<pstable::Cosine>)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("search/exact_batch/euclidean", exact_batch<pstable::Euclidean>)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("search/exact_batch/cosine", exact_batch<pstable::Cosine>)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
}

}  // namespace pstable_bench
