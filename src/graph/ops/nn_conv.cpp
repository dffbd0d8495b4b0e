// Convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv.
//
// Each is one compute with one reduction over (input channels of the group, kernel dims); the
// padding is never materialized: window positions outside the input contribute zero.
#include "graph/ops/nn_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

// The geometry of a convolution: input x [N, C, spatial...], output [N, M, out...].
struct ConvShape {
  int64_t n = 0, c = 0, m = 0, group = 1;
  std::vector<Window> windows;
  std::vector<int64_t> kernel() const {
    std::vector<int64_t> k;
    for (const Window& w : windows) k.push_back(w.kernel);
    return k;
  }
};

std::vector<int64_t> spatial(const std::vector<int64_t>& shape) {
  return {shape.begin() + 2, shape.end()};
}

// Checks the ranks of x and w, the group count against x's channels (its last dim channels
// last, else dim 1) and kernel_shape.
void check_conv_inputs(const OpContext& ctx, int64_t group, bool channels_last = false) {
  const auto& x = ctx.shape(0);
  const auto& w = ctx.shape(1);
  TM_OP_CHECK(ctx, x.size() >= 3 && w.size() == x.size())
      << "x and w must have the same rank (3 or more), got " << x.size() << " and " << w.size();
  const int64_t channels = channels_last ? x.back() : x[1];
  TM_OP_CHECK(ctx, group > 0 && channels % group == 0)
      << "group " << group << " does not divide the " << channels << " input channels";
  if (ctx.has_attr("kernel_shape")) {
    TM_OP_CHECK(ctx, ctx.attr_ints("kernel_shape") == spatial(w))
        << "kernel_shape does not match the weight's spatial dims";
  }
}

ConvShape conv_shape(const OpContext& ctx) {
  ConvShape s;
  s.group = ctx.attr_int("group", 1);
  check_conv_inputs(ctx, s.group);
  const auto& x = ctx.shape(0);
  const auto& w = ctx.shape(1);
  s.n = x[0];
  s.c = x[1];
  s.m = w[0];
  TM_OP_CHECK(ctx, w[1] * s.group == s.c && s.m % s.group == 0)
      << "w of shape [" << w[0] << ", " << w[1] << ", ...] does not fit " << s.c
      << " input channels in " << s.group << " groups";
  s.windows = sliding_windows(ctx, spatial(x), spatial(w));
  return s;
}

// An optional input 2 must be a bias of one value per output channel.
void check_bias(const OpContext& ctx, int64_t out_channels) {
  if (!ctx.has_input(2)) return;
  TM_OP_CHECK(ctx, ctx.shape(2) == std::vector<int64_t>{out_channels})
      << "the bias must have shape [" << out_channels << "]";
}

std::vector<int64_t> output_shape(const ConvShape& s) {
  std::vector<int64_t> out = {s.n, s.m};
  for (const Window& w : s.windows) out.push_back(w.out);
  return out;
}

// sum over (c, k...) of product(x[n, g * C/G + c, pos...], w[m, c, k...]) for output index `o`;
// positions outside the input add nothing.
Expr conv_reduce(const ConvShape& s, const ir::Var& x, const ir::Var& w, const Index& o,
                 ir::DType acc, const std::function<Expr(Expr, Expr)>& product) {
  const int64_t cg = s.c / s.group, mg = s.m / s.group;
  Expr first_channel = s.group == 1 ? Expr(0) : (mg == 1 ? o[1] : o[1] / mg) * cg;
  std::vector<int64_t> extents = {cg};
  for (const Window& win : s.windows) extents.push_back(win.kernel);
  return sum_reduce(
      extents,
      [&](const Index& r) {
        Index xi = {o[0], s.group == 1 ? r[0] : first_channel + r[0]};
        Index wi = {o[1], r[0]};
        std::vector<Expr> inside;
        for (size_t d = 0; d < s.windows.size(); ++d) {
          xi.push_back(s.windows[d].read_position(o[2 + d], r[1 + d], &inside));
          wi.push_back(r[1 + d]);
        }
        Expr value = product(ir::load(x, xi), ir::load(w, wi));
        if (inside.empty()) return value;
        return ir::select(all_of(inside), value, ir::make_const(acc, 0));
      },
      acc);
}

OpDef conv() {
  OpDef def{"Conv"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    ConvShape s = conv_shape(ctx);
    const ir::DType dtype = ctx.dtype(0), acc = accumulate_dtype(dtype);
    ir::Var x = ctx.param(0), w = ctx.param(1);
    check_bias(ctx, s.m);
    return {ir::compute("conv", output_shape(s), [&](const Index& o) {
      Expr sum = conv_reduce(s, x, w, o, acc,
                             [&](Expr a, Expr b) { return ir::cast(acc, a) * ir::cast(acc, b); });
      if (ctx.has_input(2)) sum = sum + ir::cast(acc, ir::load(ctx.param(2), {o[1]}));
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

// x[xi] · w[wi] in `acc`, zero where a window position falls outside the input (`inside`).
Expr padded_product(const ir::Var& x, const Index& xi, const ir::Var& w, const Index& wi,
                    const std::vector<Expr>& inside, ir::DType acc) {
  Expr value = ir::cast(acc, ir::load(x, xi)) * ir::cast(acc, ir::load(w, wi));
  if (inside.empty()) return value;
  return ir::select(all_of(inside), value, ir::make_const(acc, 0));
}

// A channels-last output: [n, each window's output size..., channels].
std::vector<int64_t> nhwc_shape(int64_t n, const std::vector<Window>& windows, int64_t channels) {
  std::vector<int64_t> shape = {n};
  for (const Window& win : windows) shape.push_back(win.out);
  shape.push_back(channels);
  return shape;
}

// `sum` plus the optional bias (input 2) of output channel `channel`.
Expr with_bias(const OpContext& ctx, Expr sum, const Expr& channel) {
  if (!ctx.has_input(2)) return sum;
  return sum + ir::cast(sum.dtype(), ir::load(ctx.param(2), {channel}));
}

// NhwcConv (domain "taskmap"; the layout pass makes it from a Conv): the same convolution on
// channels-last tensors, x [N, spatial..., C] -> y [N, out..., M], with Conv's attributes and
// its weight as Conv has it, [M, C, k...] (a constant, packed at compile time either way). The
// reduction runs over the window dims wider than 1 and then the channels, so that consecutive
// reduction steps read consecutive channels of one pixel: the GEMM template packs the image
// with vector copies, and reads a 1×1 convolution's image in place, as a matrix.
OpDef nhwc_conv() {
  OpDef def{"NhwcConv", kTaskmapDomain};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    TM_OP_CHECK(ctx, ctx.attr_int("group", 1) == 1) << "only group 1 is supported";
    check_conv_inputs(ctx, 1, /*channels_last=*/true);
    const auto& x = ctx.shape(0);
    const auto& w = ctx.shape(1);
    ConvShape s;
    s.n = x[0];
    s.c = x.back();
    s.m = w[0];
    TM_OP_CHECK(ctx, w[1] == s.c) << "w of shape [" << w[0] << ", " << w[1]
                                  << ", ...] does not fit " << s.c << " input channels";
    s.windows = sliding_windows(ctx, {x.begin() + 1, x.end() - 1}, spatial(w));
    check_bias(ctx, s.m);
    const ir::DType dtype = ctx.dtype(0), acc = accumulate_dtype(dtype);
    const size_t rank = s.windows.size();
    std::vector<size_t> wide;  // the window dims that are reduced over
    std::vector<int64_t> extents;
    for (size_t d = 0; d < rank; ++d) {
      if (s.windows[d].kernel == 1) continue;
      wide.push_back(d);
      extents.push_back(s.windows[d].kernel);
    }
    extents.push_back(s.c);
    ir::Var xp = ctx.param(0), wp = ctx.param(1);
    return {ir::compute("nhwc_conv", nhwc_shape(s.n, s.windows, s.m), [&](const Index& o) {
      const Expr m = o.back();
      Expr sum = sum_reduce(
          extents,
          [&](const Index& r) {
            std::vector<Expr> k(rank, Expr(0));
            for (size_t i = 0; i < wide.size(); ++i) k[wide[i]] = r[i];
            Index xi = {o[0]}, wi = {m, r.back()};
            std::vector<Expr> inside;
            for (size_t d = 0; d < rank; ++d) {
              xi.push_back(s.windows[d].read_position(o[1 + d], k[d], &inside));
              wi.push_back(k[d]);
            }
            xi.push_back(r.back());
            return padded_product(xp, xi, wp, wi, inside, acc);
          },
          acc);
      return ir::cast(dtype, with_bias(ctx, sum, m));
    })};
  };
  return def;
}

// NhwcDepthwiseConv (domain "taskmap"; the layout pass makes it from a Conv with one group per
// channel and one output channel per group): x [N, spatial..., C] -> y [N, out..., C], with
// Conv's attributes (group = C) and its weight channels last too, [k..., C], so that a vector
// of output channels reads one vector of the image and one of the weight per window position
// (MobileNet's 3 x 3 layers). The weight is a constant the pass transposes at compile time.
OpDef nhwc_depthwise_conv() {
  OpDef def{"NhwcDepthwiseConv", kTaskmapDomain};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    const auto& x = ctx.shape(0);
    const auto& w = ctx.shape(1);
    TM_OP_CHECK(ctx, x.size() >= 3 && w.size() + 1 == x.size())
        << "x [N, spatial..., C] and w [k..., C] must differ by one in rank, got " << x.size()
        << " and " << w.size();
    const int64_t c = x.back();
    TM_OP_CHECK(ctx, w.back() == c && ctx.attr_int("group", 1) == c)
        << "a depthwise convolution needs w [k..., " << c << "] and group " << c << ", got w "
        << shape_str(w) << " and group " << ctx.attr_int("group", 1);
    const std::vector<int64_t> kernel(w.begin(), w.end() - 1);
    if (ctx.has_attr("kernel_shape")) {
      TM_OP_CHECK(ctx, ctx.attr_ints("kernel_shape") == kernel)
          << "kernel_shape does not match the weight's spatial dims";
    }
    const std::vector<Window> windows = sliding_windows(ctx, {x.begin() + 1, x.end() - 1}, kernel);
    check_bias(ctx, c);
    const ir::DType dtype = ctx.dtype(0), acc = accumulate_dtype(dtype);
    ir::Var xp = ctx.param(0), wp = ctx.param(1);
    return {ir::compute("nhwc_depthwise_conv", nhwc_shape(x[0], windows, c), [&](const Index& o) {
      const Expr channel = o.back();
      Expr sum = sum_reduce(
          kernel,
          [&](const Index& k) {
            Index xi = {o[0]}, wi;
            std::vector<Expr> inside;
            for (size_t d = 0; d < windows.size(); ++d) {
              xi.push_back(windows[d].read_position(o[1 + d], k[d], &inside));
              wi.push_back(k[d]);
            }
            xi.push_back(channel);
            wi.push_back(channel);
            return padded_product(xp, xi, wp, wi, inside, acc);
          },
          acc);
      return ir::cast(dtype, with_bias(ctx, sum, channel));
    })};
  };
  return def;
}

// The integer sum of ConvInteger and QLinearConv: sum (x - x_zero) * (w - w_zero) in i32, with
// x, w and their zero points at the given inputs (an absent zero point is 0).
Expr integer_conv(const OpContext& ctx, const ConvShape& s, const Index& o, int x, int x_zero,
                  int w, int w_zero) {
  for (int i : {x, w}) {
    ir::DType t = ctx.dtype(i);
    TM_OP_CHECK(ctx, t == ir::u8 || t == ir::i8)
        << "input " << i << " of dtype " << t.name() << " is not supported";
  }
  Expr xz = ctx.has_input(x_zero) ? ir::cast(ir::i32, per_channel(ctx, x_zero, 1, 0))
                                  : ir::int_imm(0, ir::i32);
  Expr wz = ctx.has_input(w_zero) ? ir::cast(ir::i32, per_channel(ctx, w_zero, s.m, o[1]))
                                  : ir::int_imm(0, ir::i32);
  return conv_reduce(s, ctx.param(x), ctx.param(w), o, ir::i32, [&](Expr a, Expr b) {
    return (ir::cast(ir::i32, a) - xz) * (ir::cast(ir::i32, b) - wz);
  });
}

OpDef conv_integer() {
  OpDef def{"ConvInteger"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    ConvShape s = conv_shape(ctx);
    return {ir::compute("conv_integer", output_shape(s),
                        [&](const Index& o) { return integer_conv(ctx, s, o, 0, 2, 1, 3); })};
  };
  return def;
}

OpDef qlinear_conv() {
  OpDef def{"QLinearConv"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    // Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
    ConvShape s;
    s.group = ctx.attr_int("group", 1);
    const auto& x = ctx.shape(0);
    const auto& w = ctx.shape(3);
    TM_OP_CHECK(ctx, x.size() >= 3 && w.size() == x.size()) << "x and w ranks do not match";
    s.n = x[0];
    s.c = x[1];
    s.m = w[0];
    TM_OP_CHECK(ctx, s.group > 0 && w[1] * s.group == s.c && s.m % s.group == 0)
        << "w does not fit the input channels and groups";
    s.windows = sliding_windows(ctx, spatial(x), spatial(w));
    const ir::DType out = ctx.has_input(7) ? ctx.dtype(7) : ir::u8;
    return {ir::compute("qlinear_conv", output_shape(s), [&](const Index& o) {
      Expr sum = integer_conv(ctx, s, o, 0, 2, 3, 5);
      if (ctx.has_input(8)) sum = sum + ir::load(ctx.param(8), {o[1]});
      Expr scale =
          per_channel(ctx, 1, 1, 0) * per_channel(ctx, 4, s.m, o[1]) / per_channel(ctx, 6, 1, 0);
      return requantize(sum, scale, ctx.has_input(7) ? per_channel(ctx, 7, 1, 0) : Expr(), out);
    })};
  };
  return def;
}

// The geometry of ConvTranspose: x [N, C, in...], w [C, M/G, k...], y [N, M, out...]. The
// output size comes from output_shape, auto_pad or pads; the Window's pad_begin is the shift
// between output and input positions (negative when output_shape asks for more than the full
// size).
ConvShape conv_transpose_shape(const OpContext& ctx) {
  ConvShape s;
  s.group = ctx.attr_int("group", 1);
  check_conv_inputs(ctx, s.group);
  const auto& x = ctx.shape(0);
  const auto& w = ctx.shape(1);
  const size_t rank = x.size() - 2;
  s.n = x[0];
  s.c = x[1];
  s.m = w[1] * s.group;
  TM_OP_CHECK(ctx, w[0] == s.c) << "w must have " << s.c << " rows (the input channels)";
  std::vector<int64_t> ones(rank, 1);
  std::vector<int64_t> strides = ctx.attr_ints("strides", ones);
  std::vector<int64_t> dilations = ctx.attr_ints("dilations", ones);
  std::vector<int64_t> out_pad = ctx.attr_ints("output_padding", std::vector<int64_t>(rank, 0));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * rank, 0));
  std::vector<int64_t> out_shape = ctx.attr_ints("output_shape", {});
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  TM_OP_CHECK(ctx, auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" ||
                       auto_pad == "SAME_LOWER")
      << "auto_pad '" << auto_pad << "' is not supported";
  if (out_shape.size() == rank + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  TM_OP_CHECK(ctx, strides.size() == rank && dilations.size() == rank && out_pad.size() == rank &&
                       pads.size() == 2 * rank && (out_shape.empty() || out_shape.size() == rank))
      << "strides, dilations, output_padding, pads or output_shape has the wrong length";
  auto floor_half = [](int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); };
  for (size_t d = 0; d < rank; ++d) {
    Window win;
    win.in = x[2 + d];
    win.kernel = w[2 + d];
    win.stride = strides[d];
    win.dilation = dilations[d];
    TM_OP_CHECK(ctx, win.stride > 0 && win.dilation > 0)
        << "strides and dilations must be positive";
    int64_t full = win.stride * (win.in - 1) + out_pad[d] + win.extent();
    bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    if (!out_shape.empty() || same) {
      // The ONNX rule: SAME_UPPER puts the smaller half of the total padding first.
      win.out = out_shape.empty() ? win.in * win.stride : out_shape[d];
      int64_t total = full - win.out;
      win.pad_begin = auto_pad == "SAME_UPPER" ? floor_half(total) : total - floor_half(total);
    } else if (auto_pad == "NOTSET") {
      win.pad_begin = pads[d];
      win.out = full - pads[d] - pads[d + rank];
    } else {
      win.out = full;
    }
    TM_OP_CHECK(ctx, win.out >= 0) << "the output size in spatial dim " << d << " is negative";
    s.windows.push_back(win);
  }
  return s;
}

// ConvTranspose: output position o receives x[i] * w[k] wherever
// o = i * stride + k * dilation - pad_begin.
OpDef conv_transpose() {
  OpDef def{"ConvTranspose"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    ConvShape s = conv_transpose_shape(ctx);
    const size_t rank = s.windows.size();
    check_bias(ctx, s.m);
    const ir::DType dtype = ctx.dtype(0), acc = accumulate_dtype(dtype);
    const int64_t cg = s.c / s.group, mg = s.m / s.group;
    ir::Var xp = ctx.param(0), wp = ctx.param(1);
    return {ir::compute("conv_transpose", output_shape(s), [&](const Index& o) {
      Expr first_channel = s.group == 1 ? Expr(0) : (mg == 1 ? o[1] : o[1] / mg) * cg;
      Expr m_in_group = s.group == 1 ? o[1] : (mg == 1 ? Expr(0) : o[1] % mg);
      std::vector<int64_t> extents = {cg};
      for (const Window& win : s.windows) extents.push_back(win.kernel);
      Expr sum = sum_reduce(
          extents,
          [&](const Index& r) {
            Expr channel = s.group == 1 ? r[0] : first_channel + r[0];
            Index xi = {o[0], channel};
            Index wi = {channel, m_in_group};
            std::vector<Expr> inside;
            for (size_t d = 0; d < rank; ++d) {
              const Window& win = s.windows[d];
              Expr num = o[2 + d] + win.pad_begin - r[1 + d] * win.dilation;
              if (win.stride == 1) {
                inside.push_back(num >= 0 && num < win.in);
                xi.push_back(clamp_index(num, win.in));
              } else {
                inside.push_back(num >= 0 && ir::eq(num % win.stride, 0) &&
                                 num < win.in * win.stride);
                xi.push_back(clamp_index(num / win.stride, win.in));
              }
              wi.push_back(r[1 + d]);
            }
            Expr value = ir::cast(acc, ir::load(xp, xi)) * ir::cast(acc, ir::load(wp, wi));
            return ir::select(all_of(inside), value, ir::make_const(acc, 0));
          },
          acc);
      if (ctx.has_input(2)) sum = sum + ir::cast(acc, ir::load(ctx.param(2), {o[1]}));
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

}  // namespace

void register_conv_ops(std::vector<OpDef>& defs) {
  defs.push_back(conv());
  defs.push_back(nhwc_conv());
  defs.push_back(nhwc_depthwise_conv());
  defs.push_back(conv_transpose());
  defs.push_back(conv_integer());
  defs.push_back(qlinear_conv());
}

}  // namespace taskmap::graph::ops
