#pragma once

// Umbrella header: includes the public headers, nothing else.

#include "pstable/config.hpp"
#include "pstable/core/error.hpp"
#include "pstable/core/neighbors.hpp"
#include "pstable/core/types.hpp"
#include "pstable/eval/average_precision.hpp"
#include "pstable/eval/evaluation.hpp"
#include "pstable/eval/ground_truth.hpp"
#include "pstable/eval/labels.hpp"
#include "pstable/eval/per_class.hpp"
#include "pstable/eval/precision.hpp"
#include "pstable/eval/recall.hpp"
#include "pstable/eval/statistics.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/metric/traits.hpp"
#include "pstable/simd/dispatch.hpp"
#include "pstable/simd/scalar.hpp"
#include "pstable/version.hpp"
