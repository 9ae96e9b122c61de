// pstable._cpu: which of the per-instruction-set cores this CPU (and OS) can run. Built with the
// baseline flags only, so it imports everywhere.

#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <xsimd/xsimd.hpp>

namespace {

/// The core names the CPU supports, best first ("avx512", "avx2", "sse2"); xsimd checks both the
/// CPUID bits and that the OS saves the wider registers.
std::vector<std::string> supported() {
  const auto a = xsimd::available_architectures();
  std::vector<std::string> out;
  if (a.avx512f && a.avx512cd && a.avx512dq && a.avx512bw && a.fma3_avx2)
    out.emplace_back("avx512");
  if (a.avx2 && a.fma3_avx2) out.emplace_back("avx2");
  if (a.sse2) out.emplace_back("sse2");
  out.emplace_back("generic");
  return out;
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "CPU feature detection for choosing pstable's compiled core";
  m.def("supported", &supported, "Core names this CPU can run, best first");
}
