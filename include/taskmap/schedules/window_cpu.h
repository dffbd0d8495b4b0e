#pragma once
// Sliding-window reductions on the CPU: the loop structure shared by the depthwise-convolution
// and pooling templates (depthwise_cpu.h, pool_cpu.h). It implements every task whose one output
// [N, C, OH, OW] (NCHW) is an expression of one f32 reduction over a small window,
//
//   out[n, c, oh, ow] = epilogue(⊕_{r in window} term(n, c, oh, ow, r))       ⊕: sum, max, min
//
// where `term` reads the inputs through element loads and depends on ow (a depthwise
// convolution: x[n, c, oh·s - p + kh·d, ow·s - p + kw·d] · w[c, kh, kw] masked by the padding;
// a max pool: the masked x alone). The loop structure:
//
//   for (n, c, band) in spatial(N, C, bands) over cores:        a band is a run of row blocks
//     border rows (their windows leave the input): one row at a time, bounds checked
//     for each block of `rows` interior rows:                    no row checks
//       border columns: one column at a time, bounds checked
//       for each tile of `vectors` × `lanes` interior columns:   no checks at all
//         for lane in range(lanes) vectorized:
//           acc[rows][vectors] = ⊕ over the window, unrolled      registers, weights loaded once
//           out[...] = epilogue(acc)                              element stores
//       the ragged rest: one more vector ending at the interior's end (overlapping the last
//       tile, it writes some columns twice, with the same values)
//
// Which rows and columns are interior is proven, not assumed: the masking conditions of the
// term are split into conjuncts that read oh or ow alone, and bound analysis proves them for the
// whole window. Each region's term is then simplified with the ranges of its loop variables,
// which drops the masks and index clamps it does not need. Inputs are read only by element loads
// and the output written only by element stores, so post-scheduling fusion can rewrite both.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct WindowForm {
  bool channels_last = false;           // NHWC (see analyze_window)
  std::vector<ir::Var> axes;            // the output compute's axes: n, c, oh, ow (n, oh, ow, c)
  std::vector<int64_t> extents;         // N, C, OH, OW (N, OH, OW, C)
  std::vector<ir::Var> r_axes;          // the window's axes
  std::vector<int64_t> r_extents;       // their extents
  int64_t window = 1;                   // positions in the window (the product of r_extents)
  ir::ReduceOp op = ir::ReduceOp::sum;  // sum, max or min (a mean is a sum the epilogue divides)
  ir::Expr term;                        // one window position's value, over axes and r_axes
  ir::Var acc;                          // stands for the reduction in `epilogue`
  ir::Expr epilogue;                    // the output value, over acc and axes
  // Output rows [row_begin, row_end) and columns [col_begin, col_end) need no masking: every
  // masking condition of `term` that reads oh (ow) alone is proven there for the whole window.
  int64_t row_begin = 0, row_end = 0, col_begin = 0, col_end = 0;
  size_t row_axis() const { return channels_last ? 1 : 2; }  // oh
  size_t col_axis() const { return channels_last ? 2 : 3; }  // ow
};

// The form of `task`, or nothing when it is not a sliding-window reduction this template
// implements: not one f32 rank-4 output, not exactly one reduction that reads inputs (others
// may only count window positions, as AveragePool's divisor does, and are unrolled into the
// epilogue), a window larger than kMaxWindow, or a term that does not read ow. NCHW, the window
// must slide along memory (some load's last index reads ow and a window axis); channels last
// (`channels_last`: the output is [N, OH, OW, C]), every load that moves with the pixel or the
// window must read the channel alone as its last index.
std::optional<WindowForm> analyze_window(const ir::Task& task, bool channels_last = false);
constexpr int64_t kMaxWindow = 121;

struct WindowConfig {
  int64_t lanes = 16;          // f32 lanes of one vector register
  int64_t vectors = 2;         // vectors per tile row
  int64_t rows = 4;            // output rows per tile: windows overlap, so loads are shared
  int64_t tasks_per_core = 4;  // planes split into row bands until each core has this many
  int cores = 1;
  std::string str() const;
};

// One good configuration from the hardware: the vector width gives `lanes`, the register count
// `rows` × `vectors` accumulators; large windows get fewer rows to bound the unrolled code.
WindowConfig default_window_config(const CpuTarget& target, const WindowForm& form);

// The kernel. Its parameters are task.params(); `schedule` names the template in the kernel's
// "schedule" attribute.
ir::Function window_cpu(const ir::Task& task, const WindowForm& form, const WindowConfig& config,
                        const std::string& schedule);

}  // namespace taskmap::schedules
