#pragma once

// Every p-stable hash family E2LSH knows, and which metric each one hashes (LshFamilyOf). A new
// family is its header (a struct with draw() and collision_probability(), plus the LshFamilyOf
// specialisation for its metric) and one include here.

#include "pstable/index/cauchy.hpp"
#include "pstable/index/gaussian.hpp"
