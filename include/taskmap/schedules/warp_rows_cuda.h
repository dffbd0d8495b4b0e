#pragma once
// CUDA templates that give each row of a reduction one warp, eight rows per block of 256
// threads. Lane l of a row's warp takes the row's elements l, l + 32, l + 64, ... (consecutive
// lanes read consecutive elements: one coalesced transaction per step), and the lanes' partial
// results are folded across the warp by butterfly (xor) shuffles, after which every lane holds
// the row's result. The auto-scheduler instead gives each output element a thread and
// recomputes a row's intermediate reductions for every element that reads them.
//
// normalize_rows_cuda: an output whose elements read statistics of their own row (RowNormForm):
// softmax, log-softmax, layer and RMS normalization. For each statistic in dependency order,
//   a reduction: the lanes fold the term over their elements, then across the warp
//                (a mean divides the sum by the row's length)
//   a value of earlier statistics (1 / sqrt(variance + epsilon)): computed once, by every lane
// then out[row, j] = value(x(row, j), statistics) for the lane's elements. The row is read
// once per reduction; the later reads of a row hit the cache.
//
// row_reduce_cuda: a sum, mean or max over the trailing axes of its inputs (pool_cpu.h's
// RowReduceForm: ReduceSum / ReduceMean / ReduceMax over the last axes, GlobalAveragePool on
// NCHW); lane 0 writes the epilogue of the row's result.
#include <optional>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// One statistic of a row: a keepdims compute (its last extent 1) that reduces along the
// output's last axis, or that combines earlier statistics.
struct RowStatistic {
  const ir::ComputeNode* compute = nullptr;
  std::optional<ir::ReduceOp> op;  // sum, mean, max or min; nothing for a combination
  ir::DType accumulate = ir::f32;  // a reduction's accumulator dtype
  ir::Expr term;  // over the output's axes (a reduction's the last too); loads of earlier
                  // statistics at the row left in place
};

// A task whose one output is elementwise over its rows apart from loads of its row's statistics.
struct RowNormForm {
  std::vector<ir::Var> axes;             // the output's axes; the last runs along the row
  std::vector<int64_t> extents;          // their extents
  std::vector<RowStatistic> statistics;  // dependencies first; at least one reduction
  ir::Expr value;                        // the output element over `axes`
};

// The form of `task`, or nothing: several outputs, a reduction not along the output's last axis
// or of another op, a compute that is neither the output nor a statistic of the row, a
// statistic read at another row.
std::optional<RowNormForm> analyze_row_norm(const ir::Task& task);

// The module, or nothing when `task` does not have that form.
std::optional<ir::Module> normalize_rows_cuda(const ir::Task& task, const CudaTarget& target);

// The module, or nothing when `task` is not such a row reduction or its rows are shorter than a
// warp.
std::optional<ir::Module> row_reduce_cuda(const ir::Task& task, const CudaTarget& target);

}  // namespace taskmap::schedules
