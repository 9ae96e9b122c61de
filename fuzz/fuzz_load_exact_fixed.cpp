// Fuzz target: loading ExactIndex files with the header's file size and the CRC-32 trailer repaired first, so mutations reach the checks behind the checksum.
#include "fuzz_load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pstable::fuzz::fuzz_load<pstable::fuzz::ExactKind>(data, size, true);
}
