#pragma once
// The channels-last sliding-window template: depthwise convolutions and pools on NHWC tensors
// (the layout pass's NhwcDepthwiseConv, NhwcMaxPool, NhwcAveragePool), whose one output
// [N, OH, OW, C] is an expression of one f32 reduction over a small window that reads each
// input pixel's channels in place:
//
//   out[n, oh, ow, c] = epilogue(⊕_{r in window} term(n, oh, ow, c, r))       ⊕: sum, max, min
//
// The loop structure, vectors along the channels:
//
//   for (n, oh, group) in spatial(N, OH, groups) over cores:   groups of channel chunks
//     border row (its windows leave the input): every column one at a time, masked
//     interior row:
//       border columns one at a time, masked
//       for each tile of `pixels` interior columns:            no masks, no index clamps
//         for chunk in the group's chunks:                     the tile's pixels read whole
//           for lane in range(lanes) vectorized:               c = chunk · lanes + lane
//             acc[pixels] = ⊕ over the window, unrolled        independent accumulators; a
//             out[...] = epilogue(acc)                         depthwise weight read once per tile
//       the rest of the interior one column at a time
//
// Which rows and columns are interior is proven by analyze_window (channels last), and each
// region's terms are simplified with the ranges of its variables, as in window_cpu.h.
#include <optional>
#include <string>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/window_cpu.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct ChannelsLastWindowPlan {
  WindowForm form;
  int64_t lanes = 16;  // f32 lanes of one vector register; the channels are a multiple
  int64_t pixels = 4;  // output pixels per register tile
  int64_t groups = 1;  // the channel chunks split into this many tasks per row
  std::string str() const;
};

// The plan for `task`, or nothing when it is not a channels-last window (analyze_window with
// channels_last) or its channels do not fill whole vectors.
std::optional<ChannelsLastWindowPlan> plan_channels_last_window(const ir::Task& task,
                                                                const CpuTarget& target);

// The kernel; its parameters are task.params() and its "schedule" attribute names
// channels_last_window_cpu.
ir::Function channels_last_window_cpu(const ir::Task& task, const ChannelsLastWindowPlan& plan);

}  // namespace taskmap::schedules
