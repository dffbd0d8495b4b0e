// DFT and STFT (opset 17 and 20). Signals carry complex numbers as a trailing dimension of 1 (real)
// or 2 (real, imaginary); the outputs are always complex.
//
// Each output bin is a reduction over the signal: sum_n x[n] e^(-+2 pi i k n / N). The twiddle
// angle is taken from (k n) mod N, an exact integer, and everything is computed in f64.
#include <numbers>

#include "graph/ops/signal_common.h"

namespace taskmap::graph::ops::signal {
namespace {

using ir::Expr;
using ir::ReduceOp;

// Component `c` (0: real, 1: imaginary) of x[n] * e^(sign 2 pi i k n / length), x given by its
// real and imaginary parts (f64).
Expr rotated(const Expr& re, const Expr& im, const Expr& k, const Expr& n, int64_t length,
             double sign, const Expr& c) {
  Expr turn = (k * n) % Expr(length);
  Expr angle = ir::cast(ir::f64, turn) * (2 * std::numbers::pi / static_cast<double>(length));
  Expr cos = ir::call("cos", {angle}), sin = ir::call("sin", {angle}) * sign;
  return ir::select(ir::eq(c, Expr(0)), re * cos - im * sin, re * sin + im * cos);
}

// The real and imaginary parts (f64) of a signal element; `index` ends with the component.
std::pair<Expr, Expr> complex_at(const ir::Var& x, ir::Index index, int64_t components) {
  index.back() = Expr(0);
  Expr re = ir::cast(ir::f64, ir::load(x, index));
  if (components == 1) return {re, ir::make_const(ir::f64, 0)};
  index.back() = Expr(1);
  return {re, ir::cast(ir::f64, ir::load(x, index))};
}

void check_signal(const OpContext& ctx, int input, int64_t min_rank) {
  ir::DType dtype = ctx.dtype(input);
  TM_OP_CHECK(ctx, dtype.is_float()) << dtype.name() << " signals are not supported";
  TM_OP_CHECK(ctx, ctx.rank(input) >= min_rank &&
                       (ctx.shape(input).back() == 1 || ctx.shape(input).back() == 2))
      << "the signal must have rank " << min_rank << " or more and end in a dimension of 1 "
      << "(real) or 2 (complex), not " << shape_str(ctx.shape(input));
}

int64_t scalar_input(const OpContext& ctx, int input, const char* name) {
  TM_OP_CHECK(ctx, ctx.rank(input) == 0 || ctx.shape(input) == std::vector<int64_t>{1})
      << name << " must be a scalar";
  return static_cast<int64_t>(ctx.value_scalar(input));
}

OpDef dft() {
  OpDef def{"DFT"};
  def.min_opset = 17;
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_signal(ctx, 0, 2);
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t rank = ctx.rank(0), components = shape.back();
    int64_t axis;
    if (ctx.opset() != 0 && ctx.opset() < 20) {
      axis = ctx.attr_int("axis", 1);  // negative: counted over the signal dims (the reference)
      if (axis < 0) axis += rank - 1;
    } else {
      axis = ctx.has_input(2) ? scalar_input(ctx, 2, "axis") : -2;
      if (axis < 0) axis += rank;
    }
    TM_OP_CHECK(ctx, axis >= 0 && axis < rank - 1)
        << "axis must name a signal dimension of " << shape_str(shape);
    int64_t length = ctx.has_input(1) ? scalar_input(ctx, 1, "dft_length") : shape[axis];
    TM_OP_CHECK(ctx, length > 0) << "dft_length must be positive, not " << length;
    bool inverse = ctx.attr_int("inverse", 0) != 0;
    bool onesided = ctx.attr_int("onesided", 0) != 0;
    std::vector<int64_t> out_shape = shape;
    out_shape[axis] = onesided ? length / 2 + 1 : length;
    out_shape.back() = 2;
    int64_t used = std::min(length, shape[axis]);  // zero-padded or truncated to `length`
    ir::DType dtype = ctx.dtype(0);
    if (used == 0 || shape_numel(out_shape) == 0) {
      return {ir::compute("dft", out_shape,
                          [&](const ir::Index&) { return ir::make_const(dtype, 0); })};
    }
    ir::Var x = ctx.param(0);
    return {ir::compute("dft", out_shape, [&](const ir::Index& i) {
      Expr sum = ir::reduce(ReduceOp::sum, {used}, [&](const ir::Index& n) {
        ir::Index at = i;
        at[axis] = n[0];
        auto [re, im] = complex_at(x, at, components);
        return rotated(re, im, i[axis], n[0], length, inverse ? 1 : -1, i.back());
      });
      if (inverse) sum = sum / static_cast<double>(length);
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

// STFT: the DFT of each frame of `frame_length` samples, frames `frame_step` apart, weighted by the
// window. signal [batch, length, 1 or 2] -> [batch, frames, bins, 2].
OpDef stft() {
  OpDef def{"STFT"};
  def.min_opset = 17;
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_signal(ctx, 0, 3);
    TM_OP_CHECK(ctx, ctx.rank(0) == 3) << "the signal must have shape [batch, length, 1 or 2]";
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t step = scalar_input(ctx, 1, "frame_step");
    TM_OP_CHECK(ctx, step > 0) << "frame_step must be positive, not " << step;
    bool has_window = ctx.has_input(2);
    if (has_window) {
      TM_OP_CHECK(ctx, ctx.rank(2) == 1) << "the window must have rank 1";
    }
    int64_t frame = ctx.has_input(3) ? scalar_input(ctx, 3, "frame_length")
                                     : (has_window ? ctx.shape(2)[0] : shape[1]);
    TM_OP_CHECK(ctx, !has_window || ctx.shape(2)[0] == frame)
        << "the window has " << ctx.shape(2)[0] << " points, frame_length is " << frame;
    TM_OP_CHECK(ctx, frame > 0 && frame <= shape[1])
        << "frame_length " << frame << " must be in [1, " << shape[1] << "]";
    bool onesided = ctx.attr_int("onesided", 1) != 0;
    int64_t frames = 1 + (shape[1] - frame) / step;
    std::vector<int64_t> out_shape = {shape[0], frames, onesided ? frame / 2 + 1 : frame, 2};
    ir::DType dtype = ctx.dtype(0);
    ir::Var x = ctx.param(0);
    return {ir::compute("stft", out_shape, [&](const ir::Index& i) {
      Expr sum = ir::reduce(ReduceOp::sum, {frame}, [&](const ir::Index& n) {
        auto [re, im] = complex_at(x, {i[0], i[1] * step + n[0], Expr(0)}, shape[2]);
        if (has_window) {
          Expr w = ir::cast(ir::f64, ir::load(ctx.param(2), {n[0]}));
          re = re * w;
          im = im * w;
        }
        return rotated(re, im, i[2], n[0], frame, -1, i[3]);
      });
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

}  // namespace

void register_signal_dft_ops(std::vector<OpDef>& defs) {
  defs.push_back(dft());
  defs.push_back(stft());
}

}  // namespace taskmap::graph::ops::signal
