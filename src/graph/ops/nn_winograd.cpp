// WinogradInput and WinogradOutput (domain "taskmap"): the transforms of a 3 × 3 stride-1
// convolution computed by Winograd's F(m × m, 3 × 3) (schedules/winograd.h), which
// graph::winograd_convolutions makes from an NhwcConv, with a batched MatMul between them.
//
//   WinogradInput(x [N, H, W, C]; tile m, pads [top, left, bottom, right]) -> V [α², T, C]
//   WinogradOutput(M [α², T, O], bias [O]?; tile m, output_shape [N, OH, OW]) -> y [N, OH, OW, O]
//
// with α = m + 2 and T = N · ⌈OH / m⌉ · ⌈OW / m⌉ tiles, OH = H + top + bottom - 2 (likewise OW).
// Their tasks carry the geometry as attributes, by which the CPU template knows them.
#include <algorithm>

#include "graph/ops/nn_util.h"
#include "taskmap/schedules/winograd.h"

namespace taskmap::graph::ops {
namespace {

using schedules::WinogradGeometry;

int64_t tile_attr(const OpContext& ctx) {
  const int64_t m = ctx.attr_int("tile", 4);
  TM_OP_CHECK(ctx, m == 2 || m == 4) << "tile must be 2 or 4 (F(2, 3) or F(4, 3)), got " << m;
  return m;
}

WinogradGeometry input_geometry(const OpContext& ctx) {
  TM_OP_CHECK(ctx, ctx.dtype(0) == ir::f32) << "only f32 is supported";
  const auto& x = ctx.shape(0);
  TM_OP_CHECK(ctx, x.size() == 4) << "x must be [N, H, W, C], got " << shape_str(x);
  const std::vector<int64_t> pads = ctx.attr_ints("pads", {0, 0, 0, 0});
  TM_OP_CHECK(ctx, pads.size() == 4 && std::all_of(pads.begin(), pads.end(),
                                                   [](int64_t p) { return p >= 0 && p <= 2; }))
      << "pads must be 4 values in [0, 2] (top, left, bottom, right)";
  WinogradGeometry g;
  g.m = tile_attr(ctx);
  g.batch = x[0];
  g.height = x[1];
  g.width = x[2];
  g.channels = x[3];
  g.pad_top = pads[0];
  g.pad_left = pads[1];
  g.out_height = x[1] + pads[0] + pads[2] - 2;
  g.out_width = x[2] + pads[1] + pads[3] - 2;
  TM_OP_CHECK(ctx, g.out_height >= 1 && g.out_width >= 1)
      << "a 3 x 3 window does not fit the padded " << x[1] << " x " << x[2] << " image";
  return g;
}

WinogradGeometry output_geometry(const OpContext& ctx) {
  TM_OP_CHECK(ctx, ctx.dtype(0) == ir::f32) << "only f32 is supported";
  const auto& t = ctx.shape(0);
  const std::vector<int64_t> out = ctx.attr_ints("output_shape");
  TM_OP_CHECK(ctx, out.size() == 3 && out[0] >= 1 && out[1] >= 1 && out[2] >= 1)
      << "output_shape must be [N, OH, OW] of positive sizes";
  WinogradGeometry g;
  g.m = tile_attr(ctx);
  g.batch = out[0];
  g.height = g.out_height = out[1];
  g.width = g.out_width = out[2];
  TM_OP_CHECK(ctx, t.size() == 3 && t[0] == g.alpha() * g.alpha() && t[1] == g.tiles())
      << "M must be [" << g.alpha() * g.alpha() << ", " << g.tiles() << ", O] for output_shape ["
      << out[0] << ", " << out[1] << ", " << out[2] << "] and tile " << g.m << ", got "
      << shape_str(t);
  g.channels = t[2];
  if (ctx.has_input(1)) {
    TM_OP_CHECK(ctx, ctx.dtype(1) == ir::f32 && ctx.shape(1) == std::vector<int64_t>{t[2]})
        << "bias must be f32 [" << t[2] << "], got " << shape_str(ctx.shape(1));
  }
  return g;
}

OpDef winograd_input() {
  OpDef def{"WinogradInput", kTaskmapDomain};
  def.lower = [](const OpContext& ctx) -> Outputs {
    return {schedules::winograd_input_compute(ctx.param(0), input_geometry(ctx))};
  };
  def.task_attrs = [](const OpContext& ctx) {
    return schedules::winograd_attrs(true, input_geometry(ctx));
  };
  return def;
}

OpDef winograd_output() {
  OpDef def{"WinogradOutput", kTaskmapDomain};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const WinogradGeometry g = output_geometry(ctx);
    const ir::Var transformed = ctx.param(0);
    if (!ctx.has_input(1)) return {schedules::winograd_output_compute(transformed, nullptr, g)};
    const ir::Var bias = ctx.param(1);
    return {schedules::winograd_output_compute(transformed, &bias, g)};
  };
  def.task_attrs = [](const OpContext& ctx) {
    return schedules::winograd_attrs(false, output_geometry(ctx));
  };
  return def;
}

}  // namespace

void register_winograd_ops(std::vector<OpDef>& defs) {
  defs.push_back(winograd_input());
  defs.push_back(winograd_output());
}

}  // namespace taskmap::graph::ops
