// Fuzz target: loading E2LSHIndex files on the raw input (the checksum catches most mutations).
#include "fuzz_load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pstable::fuzz::fuzz_load<pstable::fuzz::E2LSHKind>(data, size, false);
}
