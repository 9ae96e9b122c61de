// Fuzz target: the IDX readers on the input gzip-compressed here, so that mutations of the IDX
// content reach the reader through the decompression path (fuzz_idx mutates the gzip bytes).
#include "fuzz_common.hpp"
#include "pstable/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pstable;
  const std::string& path = fuzz::scratch_path(".idx.gz");
  gzFile f = gzopen(path.c_str(), "wb1");
  if (f == nullptr || (size > 0 && gzwrite(f, data, static_cast<unsigned>(size)) != int(size)) ||
      gzclose(f) != Z_OK) {
    std::perror(path.c_str());
    std::abort();
  }
  fuzz::expect_pstable_errors_only([&] { (void)read_idx_images<double>(path, false); });
  fuzz::expect_pstable_errors_only([&] { (void)read_idx_labels(path); });
  return 0;
}
