// The SIMD kernels of every instruction set this CPU runs, against their scalar twins.
#include "catch_compat.hpp"

#include <random>
#include <vector>

#include "pstable/simd/dispatch.hpp"
#include "pstable/simd/scalar.hpp"

namespace simd = pstable::simd;

namespace {

template <class Arch>
bool cpu_runs() {
  return Arch::version() <= xsimd::available_architectures().best;
}

template <class T>
void check_against_scalar(const simd::KernelSet<T>& kernels) {
  std::mt19937 rng(42);
  std::normal_distribution<T> gauss(0, 1);
  // Every length around the batch sizes (and the 4x unroll), plus the report's and MNIST's.
  auto n = GENERATE(range(0, 70), 127, 128, 129, 784, 2048);
  // Offsets make both pointers unaligned in turn.
  const auto [offset_a, offset_b] = GENERATE(table<int, int>({{0, 0}, {1, 3}}));
  std::vector<T> a(static_cast<std::size_t>(n + 4)), b(static_cast<std::size_t>(n + 4));
  for (auto& x : a) x = gauss(rng);
  for (auto& x : b) x = gauss(rng);
  const T* pa = a.data() + offset_a;
  const T* pb = b.data() + offset_b;
  const auto size = static_cast<std::size_t>(n);
  const T tol = std::is_same_v<T, float> ? T(1e-4) : T(1e-12);
  CAPTURE(kernels.arch, n, offset_a, offset_b);
  CHECK(kernels.l2_sq(pa, pb, size) ==
        Approx(simd::scalar::l2_sq(pa, pb, size)).epsilon(tol).margin(tol));
  CHECK(kernels.dot(pa, pb, size) ==
        Approx(simd::scalar::dot(pa, pb, size)).epsilon(tol).margin(tol * std::sqrt(T(n + 1))));
  CHECK(kernels.norm_sq(pa, size) ==
        Approx(simd::scalar::norm_sq(pa, size)).epsilon(tol).margin(tol));
  CHECK(kernels.l1(pa, pb, size) ==
        Approx(simd::scalar::l1(pa, pb, size)).epsilon(tol).margin(tol));
}

template <class Arch>
void check_arch() {
  if (!cpu_runs<Arch>()) {
    WARN("CPU lacks " << Arch::name() << "; its kernels are not exercised");
    return;
  }
  check_against_scalar(simd::detail::make_kernel_set<Arch, float>());
  check_against_scalar(simd::detail::make_kernel_set<Arch, double>());
}

}  // namespace

TEST_CASE("scalar twins compute the textbook sums", "[kernels]") {
  const float a[] = {1, 2, 3};
  const float b[] = {4, 6, 3};
  CHECK(simd::scalar::l2_sq(a, b, 3) == 25.0f);
  CHECK(simd::scalar::dot(a, b, 3) == 25.0f);
  CHECK(simd::scalar::norm_sq(a, 3) == 14.0f);
  CHECK(simd::scalar::l1(a, b, 3) == 7.0f);
  CHECK(simd::scalar::l2_sq(a, b, 0) == 0.0f);
}

#if defined(__x86_64__) || defined(_M_X64)
TEST_CASE("sse2 kernels match the scalar twins", "[kernels]") { check_arch<xsimd::sse2>(); }
TEST_CASE("sse4.2 kernels match the scalar twins", "[kernels]") { check_arch<xsimd::sse4_2>(); }
TEST_CASE("avx2+fma kernels match the scalar twins", "[kernels]") {
  check_arch<xsimd::fma3<xsimd::avx2>>();
}
TEST_CASE("avx512bw kernels match the scalar twins", "[kernels]") { check_arch<xsimd::avx512bw>(); }

#endif

#if defined(__aarch64__)
TEST_CASE("neon64 kernels match the scalar twins", "[kernels]") { check_arch<xsimd::neon64>(); }
#endif

#if defined(PSTABLE_RUNTIME_DISPATCH)
TEST_CASE("runtime dispatch picks the best instruction set the CPU has", "[kernels]") {
  const auto& f = simd::kernels<float>();
  const auto& d = simd::kernels<double>();
  CHECK(std::string(f.arch) == d.arch);
  const unsigned best = xsimd::available_architectures().best;
  if (xsimd::avx512bw::version() <= best) {
    CHECK(std::string(f.arch) == xsimd::avx512bw::name());
  } else if (xsimd::fma3<xsimd::avx2>::version() <= best) {
    CHECK(std::string(f.arch) == xsimd::fma3<xsimd::avx2>::name());
  }
  check_against_scalar(f);
}
#else
TEST_CASE("header-only kernels are those of xsimd's default architecture", "[kernels]") {
  const auto& f = simd::kernels<float>();
  CHECK(std::string(f.arch) == xsimd::default_arch::name());
  CHECK(std::string(simd::kernels<double>().arch) == f.arch);
  check_against_scalar(f);
  check_against_scalar(simd::kernels<double>());
}
#endif
