// Fuzz target: the IDX readers on the raw input, which zlib reads as gzip when it starts with
// the gzip magic and as a plain file otherwise (the seeds hold both).
#include "fuzz_common.hpp"
#include "pstable/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pstable;
  const std::string& path = fuzz::scratch_path(".idx");
  fuzz::write_file(path, data, size);
  fuzz::expect_pstable_errors_only([&] { (void)read_idx_images<float>(path); });
  fuzz::expect_pstable_errors_only([&] { (void)read_idx_labels(path); });
  return 0;
}
