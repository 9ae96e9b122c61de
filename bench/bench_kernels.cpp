// The distance kernels of every instruction set this CPU runs, each beside its scalar twin, and
// a plain streaming sum that measures how fast one core reads memory.
//
// Names: kernel/<l2_sq|dot|norm_sq|l1>/<float|double>/<arch|scalar>/<d>;  bandwidth/stream_sum.
// bytes_per_second counts the bytes the kernel reads; "flops" is floating-point operations per
// second (l2_sq: 3 per coordinate, dot and norm_sq: 2).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "benchmarks.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/simd/scalar.hpp"

namespace pstable_bench {

namespace {

namespace simd = pstable::simd;

constexpr int kDims[] = {16, 64, 128, 784, 2048};

template <class T>
std::vector<T> random_values(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<T> gauss(0, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = gauss(rng);
  return v;
}

enum class Op { kL2Sq, kDot, kNormSq, kL1 };

const char* op_name(Op op) {
  switch (op) {
    case Op::kL2Sq: return "l2_sq";
    case Op::kDot: return "dot";
    case Op::kL1: return "l1";
    default: return "norm_sq";
  }
}

template <class T>
void run_kernel(benchmark::State& state, Op op, simd::KernelSet<T> kernels) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto a = random_values<T>(d, 1);
  const auto b = random_values<T>(d, 2);
  for (auto _ : state) {
    T r;
    switch (op) {
      case Op::kL2Sq: r = kernels.l2_sq(a.data(), b.data(), d); break;
      case Op::kDot: r = kernels.dot(a.data(), b.data(), d); break;
      case Op::kL1: r = kernels.l1(a.data(), b.data(), d); break;
      default: r = kernels.norm_sq(a.data(), d); break;
    }
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
  const auto reads = op == Op::kNormSq ? 1 : 2;
  const auto flops_per_coordinate = op == Op::kL2Sq || op == Op::kL1 ? 3 : 2;
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(reads * d * sizeof(T)));
  state.counters["flops"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(flops_per_coordinate * d),
      benchmark::Counter::kIsRate);
}

// The scalar twins behind the same function-pointer call as the SIMD kernels.
template <class T>
simd::KernelSet<T> scalar_set() {
  return {&simd::scalar::l2_sq<T>, &simd::scalar::dot<T>, &simd::scalar::norm_sq<T>,
          &simd::scalar::l1<T>, "scalar"};
}

template <class T>
const char* type_name() {
  return sizeof(T) == 4 ? "float" : "double";
}

template <class T>
void register_set(const simd::KernelSet<T>& set) {
  for (Op op : {Op::kL2Sq, Op::kDot, Op::kNormSq, Op::kL1}) {
    const std::string name =
        std::string("kernel/") + op_name(op) + "/" + type_name<T>() + "/" + set.arch;
    auto* b = benchmark::RegisterBenchmark(
        name.c_str(), [op, set](benchmark::State& s) { run_kernel<T>(s, op, set); });
    for (int d : kDims) b->Arg(d);
  }
}

template <class Arch>
void register_arch() {
  if (Arch::version() > xsimd::available_architectures().best) return;  // CPU lacks it
  register_set(simd::detail::make_kernel_set<Arch, float>());
  register_set(simd::detail::make_kernel_set<Arch, double>());
}

// A plain streaming sum over a buffer as large as Fashion-MNIST's training set in float
// (60,000 x 784 x 4 bytes = 188 MB): integer adds, which the compiler vectorises freely, so the
// loop is bound by how fast one core reads memory, the ceiling of a single-query scan.
void stream_sum(benchmark::State& state) {
  constexpr std::size_t kBytes = std::size_t{60000} * 784 * sizeof(float);
  std::vector<std::uint64_t> buffer(kBytes / sizeof(std::uint64_t));
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = i;
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::uint64_t v : buffer) sum += v;
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBytes));
}

}  // namespace

void register_kernel_benchmarks() {
  register_arch<xsimd::avx512bw>();
  register_arch<xsimd::fma3<xsimd::avx2>>();
  register_arch<xsimd::sse4_2>();
  register_arch<xsimd::sse2>();
  register_set(scalar_set<float>());
  register_set(scalar_set<double>());
  benchmark::RegisterBenchmark("bandwidth/stream_sum", stream_sum)->Unit(benchmark::kMillisecond);
}

}  // namespace pstable_bench
