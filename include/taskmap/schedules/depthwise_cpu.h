#pragma once
// The depthwise-convolution CPU template. It implements the convolutions in which every output
// channel reads one input channel (group == channels, any channel multiplier; grouped
// convolutions with a few channels per group take the same form), NCHW, any kernel size, stride,
// padding and dilation:
//
//   out[n, c, oh, ow] = epilogue(Σ_r  x(n, c, oh, ow, r) · w(c, r))
//
// with a window r of at most kMaxWindow positions, where the weight factor w reads no batch or
// spatial axis and the data factor x slides along ow (padding: the product masked to 0). Bias,
// scale and whatever post-scheduling fusion appends form the epilogue. The GEMM template rejects
// these tasks (one output row per group); the loop structure is window_cpu.h's: vectors along
// the output row, cores over (channel, row bands), interior tiles without bounds checks, each
// weight loaded once per register tile of rows × vectors output pixels.
#include <optional>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/window_cpu.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct DepthwisePlan {
  WindowForm form;
  WindowConfig config;
};

// The plan for `task`, or nothing when it is not such a convolution (see above and
// analyze_window for the conditions).
std::optional<DepthwisePlan> plan_depthwise(const ir::Task& task, const CpuTarget& target);

// The kernel; its parameters are task.params() and its "schedule" attribute names depthwise_cpu.
ir::Function depthwise_cpu(const ir::Task& task, const DepthwisePlan& plan);

}  // namespace taskmap::schedules
