#pragma once

#define PSTABLE_VERSION_MAJOR 0
#define PSTABLE_VERSION_MINOR 1
#define PSTABLE_VERSION_PATCH 0
#define PSTABLE_VERSION_STRING "0.1.0"

namespace pstable {

/// The library version as "major.minor.patch".
inline constexpr const char* version() noexcept { return PSTABLE_VERSION_STRING; }

}  // namespace pstable
