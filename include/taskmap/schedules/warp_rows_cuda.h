#pragma once
// CUDA templates that give each row of a reduction one warp, eight rows per block of 256
// threads. Lane l of a row's warp takes the row's elements l, l + 32, l + 64, ... (consecutive
// lanes read consecutive elements: one coalesced transaction per step), and the lanes' partial
// results are folded across the warp by butterfly (xor) shuffles, after which every lane holds
// the row's result. The auto-scheduler instead gives each output element a thread and
// recomputes a row's intermediate reductions for every element that reads them.
//
// softmax_cuda: the task Softmax lowers to (softmax_cpu.h's SoftmaxForm)
//   m = max of the lane's elements, then of the warp's
//   s = Σ exp(x - m) likewise
//   out[row, j] = exp(x(row, j) - m) · (1 / s)
// x is read three times (the later reads of a row hit the cache), the exponential taken twice.
//
// row_reduce_cuda: a sum, mean or max over the trailing axes of its inputs (pool_cpu.h's
// RowReduceForm: ReduceSum / ReduceMean / ReduceMax over the last axes, GlobalAveragePool on
// NCHW); lane 0 writes the epilogue of the row's result.
#include <optional>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// The module, or nothing when `task` is not that softmax.
std::optional<ir::Module> softmax_cuda(const ir::Task& task, const CudaTarget& target);

// The module, or nothing when `task` is not such a row reduction or its rows are shorter than a
// warp.
std::optional<ir::Module> row_reduce_cuda(const ir::Task& task, const CudaTarget& target);

}  // namespace taskmap::schedules
