// Fuzz target: the .npy readers (points as float and double, integer labels).
#include "fuzz_common.hpp"
#include "pstable/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pstable;
  const std::string& path = fuzz::scratch_path(".npy");
  fuzz::write_file(path, data, size);
  fuzz::expect_pstable_errors_only([&] { (void)read_npy<float>(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_npy<double>(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_npy_labels(path); });
  return 0;
}
