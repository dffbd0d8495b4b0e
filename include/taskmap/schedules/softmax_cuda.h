#pragma once
// The row softmax CUDA template: the task Softmax lowers to (softmax_cpu.h's SoftmaxForm), with
// one warp per row and eight rows per block of 256 threads. Lane l of a row's warp takes the
// columns l, l + 32, l + 64, ...:
//
//   m = max of its columns;     m = max over the warp (butterfly shuffles: every lane holds it)
//   s = Σ exp(x - m) over them; s = Σ over the warp
//   out[row, j] = exp(x(row, j) - m) · (1 / s)
//
// x is read three times (the second and third reads of a row hit the cache) and the exponential
// taken twice per element, where the auto-scheduler recomputes the row's maximum and sum for
// every element it writes. Reads of a warp run along memory (the columns of a row are
// consecutive), so each is one coalesced 128-byte transaction.
#include <optional>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// The module, or nothing when `task` is not that softmax.
std::optional<ir::Module> softmax_cuda(const ir::Task& task, const CudaTarget& target);

}  // namespace taskmap::schedules
