#pragma once
// The row softmax CPU template: the task Softmax lowers to along its last axis,
//
//   max[r] = max_j x(r, j);  sum[r] = Σ_j exp(x(r, j) - max[r]);  out[r, j] = exp(x(r, j) - max[r])
//   / sum[r]
//
// in f32. The auto-scheduler writes three passes over x, each reduction folded through memory per
// row, and evaluates the exp twice; this template takes one row per task:
//
//   for r in rows over cores:
//     buffer[j] = x(r, j), partial maxima in vectors    (a fused prologue, a mask, runs once)
//     buffer[j] = exp(buffer[j] - max), partial sums   (the exp once per element)
//     out[r, j] = buffer[j] · (1 / sum)                 (one division per row)
//
// with the row in a buffer on the stack (L1) and each reduction folded across one vector's
// lanes at the end. Results differ from the three-pass form by the rounding of x · (1 / s)
// against x / s: an ulp at most.
#include <cstdint>
#include <optional>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct SoftmaxForm {
  std::vector<ir::Var> axes;     // the output's axes; the last is the softmax axis
  std::vector<int64_t> extents;  // their extents
  ir::Expr x;                    // the element x(r, j), over axes
};

// The form of `task`, or nothing when it is not that f32 softmax along the last axis.
std::optional<SoftmaxForm> analyze_softmax(const ir::Task& task);

struct SoftmaxPlan {
  SoftmaxForm form;
  int64_t lanes = 16;  // f32 lanes of a vector; the row is a multiple of lanes × vectors
  int64_t vectors = 2;
};

// The plan, or nothing when the task is not a softmax or its row is not a whole number of
// vectors (up to kMaxSoftmaxRow elements: the row lives on the stack).
std::optional<SoftmaxPlan> plan_softmax(const ir::Task& task, const CpuTarget& target);
constexpr int64_t kMaxSoftmaxRow = 8192;

ir::Function softmax_cpu(const ir::Task& task, const SoftmaxPlan& plan);

}  // namespace taskmap::schedules
