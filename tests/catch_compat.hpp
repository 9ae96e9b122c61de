#pragma once
// Catch2 v2 (Debian 12's catch2) or v3, whichever tests/CMakeLists.txt found: v3 is used when
// PSTABLE_CATCH2_V3 is defined. The tests use v2's names (Approx, Catch::Contains).

#if defined(PSTABLE_CATCH2_V3)
#include <catch2/catch_all.hpp>

#include <string>

using Catch::Approx;

namespace Catch {
/// v2's string matcher, named ContainsSubstring in v3.
inline Matchers::StringContainsMatcher Contains(const std::string& text,
                                                CaseSensitive sensitivity = CaseSensitive::Yes) {
  return Matchers::ContainsSubstring(text, sensitivity);
}
}  // namespace Catch
#else
#include <catch2/catch.hpp>
#endif
