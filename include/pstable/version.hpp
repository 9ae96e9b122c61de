#pragma once

// The one place pstable's version is declared: CMakeLists.txt and python/setup.py read these
// three numbers (keep each on its own line, as written).
#define PSTABLE_VERSION_MAJOR 0
#define PSTABLE_VERSION_MINOR 1
#define PSTABLE_VERSION_PATCH 0

#define PSTABLE_DETAIL_STRINGIFY2(x) #x
#define PSTABLE_DETAIL_STRINGIFY(x) PSTABLE_DETAIL_STRINGIFY2(x)
/// The version as a string literal, "major.minor.patch".
#define PSTABLE_VERSION_STRING                                                      \
  PSTABLE_DETAIL_STRINGIFY(PSTABLE_VERSION_MAJOR)                                   \
  "." PSTABLE_DETAIL_STRINGIFY(PSTABLE_VERSION_MINOR) "." PSTABLE_DETAIL_STRINGIFY( \
      PSTABLE_VERSION_PATCH)

namespace pstable {

/// The library version as "major.minor.patch".
inline constexpr const char* version() noexcept { return PSTABLE_VERSION_STRING; }

}  // namespace pstable
