// Fuzz target: the TEXMEX readers (.fvecs, .ivecs, .bvecs), whole files and a prefix of rows.
#include "fuzz_common.hpp"
#include "pstable/io/vecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pstable;
  const std::string& path = fuzz::scratch_path(".vecs");
  fuzz::write_file(path, data, size);
  fuzz::expect_pstable_errors_only([&] { (void)read_fvecs<float>(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_fvecs<double>(path, 2); });
  fuzz::expect_pstable_errors_only([&] { (void)read_ivecs(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_bvecs<float>(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_bvecs<double>(path, 1); });
  return 0;
}
