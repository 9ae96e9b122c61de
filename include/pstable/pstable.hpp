#pragma once

// Umbrella header: includes the public headers, nothing else.

#include "pstable/config.hpp"
#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/core/types.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"
#include "pstable/io/npy.hpp"
#include "pstable/io/vecs.hpp"
#include "pstable/io/idx.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/simd/scalar.hpp"
#include "pstable/version.hpp"
