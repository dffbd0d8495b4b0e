#pragma once
// Pooling CPU templates, for two shapes of reduction.
//
// Window pooling: MaxPool and AveragePool (2-D, NCHW, any kernel, stride, padding, dilation,
// ceil_mode, count_include_pad), recognized from the task alone: one f32 max, min or sum (mean)
// reduction over a window of one input, masked where the window leaves the input,
//
//   out[n, c, oh, ow] = epilogue(⊕_r  x(n, c, oh, ow, r))
//
// the epilogue holding the divisor (AveragePool's count of positions inside the input is a small
// reduction of its own, unrolled, and a constant in the interior). The loops are window_cpu.h's.
//
// Row reductions: GlobalAveragePool, GlobalMaxPool, ReduceMean / Sum / Max over the last axes of
// an input, and matrix-vector products (a Gemm or MatMul with one row, which the GEMM template
// leaves alone). Every load that reads the reduction axes has them as its trailing indices, in
// order, so one output element reduces a contiguous run of L elements:
//
//   for w in range(outputs) parallel:                        cores over outputs (channels)
//     part: f32[width]                                       width = vectors × lanes <= L
//     for i in range(L / width): for u in range(width) vectorized: part[u] ⊕= term(i·width + u)
//     ragged end: the last `width` elements again, lanes already counted masked out
//     out[w] = epilogue(reduce_lanes(part[0:lanes] ⊕ part[lanes:2·lanes] ⊕ ...))
//
// Both read inputs only by element loads and write the output only by element stores, so
// post-scheduling fusion can rewrite them.
#include <cstdint>
#include <optional>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/window_cpu.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct PoolPlan {
  WindowForm form;
  WindowConfig config;
};

// The plan for a window pooling task: analyze_window's conditions, a max, min or sum (mean)
// reduction, and a term that reads exactly one input.
std::optional<PoolPlan> plan_pool(const ir::Task& task, const CpuTarget& target);

// The kernel; its parameters are task.params() and its "schedule" attribute names pool_cpu.
ir::Function pool_cpu(const ir::Task& task, const PoolPlan& plan);

// A reduction over contiguous runs of its inputs (their trailing axes).
struct RowReduceForm {
  std::vector<ir::Var> axes;            // the output compute's axes
  std::vector<int64_t> extents;         // their extents (all > 0)
  std::vector<ir::Var> r_axes;          // the reduction axes
  std::vector<int64_t> r_extents;       // their extents
  int64_t length = 1;                   // elements reduced per output (the product of r_extents)
  ir::ReduceOp op = ir::ReduceOp::sum;  // sum or max (a mean is a sum the epilogue divides)
  ir::Expr term;                        // one element's value, over axes and r_axes
  ir::Var acc;                          // stands for the reduction in `epilogue`
  ir::Expr epilogue;                    // the output value, over acc and axes
};

// The form of `task`, or nothing when it is not one f32 output of exactly one sum, mean or max
// reduction whose axes appear only as the trailing indices of loads.
std::optional<RowReduceForm> analyze_row_reduce(const ir::Task& task);

struct RowReducePlan {
  RowReduceForm form;
  int64_t lanes = 16;   // f32 lanes of one vector register
  int64_t vectors = 4;  // partial-result vectors per output
};

// The plan for `task`: the form, the vector width from the target, and as many partial vectors
// (up to four) as the reduced length fills. Nothing when the length is below one vector: the
// auto-scheduler does as well there.
std::optional<RowReducePlan> plan_row_reduce(const ir::Task& task, const CpuTarget& target);

// The kernel; its parameters are task.params() and its "schedule" attribute names
// row_reduce_cpu.
ir::Function row_reduce_cpu(const ir::Task& task, const RowReducePlan& plan);

}  // namespace taskmap::schedules
