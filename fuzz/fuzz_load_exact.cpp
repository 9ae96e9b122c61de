// Fuzz target: loading ExactIndex files on the raw input (the checksum catches most mutations).
#include "fuzz_load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pstable::fuzz::fuzz_load<pstable::fuzz::ExactKind>(data, size, false);
}
