#pragma once

// Umbrella header: includes the public headers, nothing else.

#include "pstable/config.hpp"
#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/core/types.hpp"
#include "pstable/index/collision.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/e2lsh_params.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/index/tuning.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/simd/scalar.hpp"
#include "pstable/version.hpp"
