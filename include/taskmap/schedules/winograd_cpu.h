#pragma once
// The CPU template of the Winograd transforms (schedules/winograd.h): the tasks of the
// WinogradInput and WinogradOutput operators, recognized by their "op" attribute and checked
// node for node against the canonical compute of their geometry.
//
//   for (row, tx) in spatial(batch · tile rows, tile columns) over cores:  one tile each
//     interior tile (its patch inside the image / its outputs inside y): no masks
//     border tile: padded reads as zeros / stores past the output skipped
//     for chunk in channels / lanes:                                       serial
//       for lane in range(lanes) vectorized:                               c = chunk·lanes + lane
//         input:  d = the α × α patch; t = Bᵀ d; V[ξν, tile, c] = (t B)[ξ, ν]
//         output: m = the α² values of M; s = Aᵀ m; y[tile's m × m pixels, c] = (s A) (+ bias)
//
// The matrices are unrolled into the kernel: the zeros of Bᵀ and Aᵀ cost nothing and their ±1s
// no multiply, so a transform costs a few adds per value it moves. Post-scheduling fusion
// applies to both (an output transform takes the convolution's Relu and residual Add).
#include <optional>
#include <string>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/winograd.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct WinogradPlan {
  bool input = true;  // the input transform, else the output transform
  WinogradGeometry geometry;
  int64_t lanes = 16;  // channels per vector; channels that do not fill vectors run as one loop
  std::string str() const;
};

// The plan for `task`, or nothing when it is not a Winograd transform.
std::optional<WinogradPlan> plan_winograd(const ir::Task& task, const CpuTarget& target);

// The kernel; its parameters are task.params() and its "schedule" attribute names winograd_cpu.
ir::Function winograd_cpu(const ir::Task& task, const WinogradPlan& plan);

}  // namespace taskmap::schedules
