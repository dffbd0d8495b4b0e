#pragma once
// Hand-built CUDA kernels shared by the cuda-build and cuda suites: they use what the
// auto-scheduler does not (shared memory, barriers, warp shuffles, atomics).
#include <cstdint>

#include "taskmap/ir/stmt.h"

namespace taskmap::testing {

// out[0] += the sum of x[0..n): each warp folds its values with shuffles, each block its warps'
// sums through shared memory, and one thread per block adds the block's sum atomically.
// Launch on ceil(n / 256) blocks of 256 threads (its attrs say so).
ir::Function block_sum_kernel(int64_t n);

}  // namespace taskmap::testing
