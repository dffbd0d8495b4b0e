// Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear.
//
//   QuantizeLinear:   y = saturate(round(x / scale) + zero_point), rounding half to even;
//   DequantizeLinear: y = (x - zero_point) * scale.
// The scale and zero point cover x per tensor (one element), per axis (1-D, one per index of
// `axis`) or per block (x's shape, dim `axis` divided into blocks of `block_size`). The integer
// side is u8 (the default), i8 or i16; float8 and 4-bit types are not supported.
// The integer operators built on quantized operands (ConvInteger, MatMulInteger, QLinearConv,
// QLinearMatMul) belong to the nn family.
#include <cmath>
#include <functional>
#include <numeric>

#include "graph/ops/op_util.h"
#include "taskmap/frontend/onnx.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

// How the scale and zero point inputs spread over x. The axis is checked only where used.
struct QuantAxis {
  int64_t axis = 1;
  int64_t block_size = 0;
};

QuantAxis quant_axis(const OpContext& ctx) {
  QuantAxis q;
  q.axis = ctx.attr_int("axis", 1);
  q.block_size = ctx.attr_int("block_size", 0);
  TM_OP_CHECK(ctx, q.block_size >= 0) << "block_size must not be negative";
  return q;
}

int64_t num_elements(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

// The element of parameter `input` (a scale or zero point) that x's element `i` uses.
Expr load_param(const OpContext& ctx, int input, const std::vector<int64_t>& x_shape,
                const QuantAxis& q, const Index& i) {
  const std::vector<int64_t>& p = ctx.shape(input);
  const ir::Var param = ctx.param(input);
  const int64_t rank = static_cast<int64_t>(x_shape.size());
  if (q.block_size > 0) {
    const int64_t axis = normalize_axis(ctx, q.axis, rank);
    bool fits = static_cast<int64_t>(p.size()) == rank;
    for (int64_t d = 0; fits && d < rank; ++d) {
      fits =
          d == axis ? p[d] == (x_shape[d] + q.block_size - 1) / q.block_size : p[d] == x_shape[d];
    }
    TM_OP_CHECK(ctx, fits) << "input " << input << " does not fit x in blocks of " << q.block_size
                           << " along axis " << axis;
    Index index = i;
    index[axis] = i[axis] / Expr(q.block_size);
    return ir::load(param, index);
  }
  if (num_elements(p) == 1) return ir::load(param, Index(p.size(), Expr(0)));
  const int64_t axis = normalize_axis(ctx, q.axis, rank);
  TM_OP_CHECK(ctx, p.size() == 1 && p[0] == x_shape[axis])
      << "input " << input << " must have one element or " << x_shape[axis]
      << " (one per index of axis " << axis << ")";
  return ir::load(param, {i[axis]});
}

// The integer dtypes quantized values may have.
void check_quantized_dtype(const OpContext& ctx, ir::DType dtype) {
  TM_OP_CHECK(ctx, dtype == ir::u8 || dtype == ir::i8 || dtype == ir::i16)
      << "quantized dtype " << dtype.name() << " is not supported (u8, i8 and i16 are)";
}

// `v` (an integer-valued float) clamped to the range of `dtype` and converted to it.
Expr saturate(Expr v, ir::DType dtype) {
  const int bits = dtype.bits();
  const double lo = dtype.is_signed() ? -std::ldexp(1.0, bits - 1) : 0.0;
  const double hi = dtype.is_signed() ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
  ir::DType t = v.dtype();
  return ir::cast(dtype, ir::min(ir::max(v, ir::make_const(t, lo)), ir::make_const(t, hi)));
}

// The dtype QuantizeLinear produces: the zero point's, else the output_dtype attribute's, else u8.
ir::DType quantized_dtype(const OpContext& ctx) {
  if (ctx.has_input(2)) return ctx.dtype(2);
  int64_t onnx_type = ctx.attr_int("output_dtype", 0);
  if (onnx_type == 0) return ir::u8;
  return onnx::dtype_from_onnx(static_cast<int>(onnx_type), ctx.where());
}

OpDef quantize_linear() {
  OpDef def{"QuantizeLinear"};
  def.min_opset = 10;
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType x_t = ctx.dtype(0), scale_t = ctx.dtype(1);
    TM_OP_CHECK(ctx, x_t.is_float() || x_t == ir::i32)
        << "x of dtype " << x_t.name() << " is not supported";
    TM_OP_CHECK(ctx, scale_t.is_float())
        << "a scale of dtype " << scale_t.name() << " is not supported";
    const ir::DType out = quantized_dtype(ctx);
    check_quantized_dtype(ctx, out);
    const ir::DType math = x_t == ir::f64 || x_t == ir::i32 ? ir::f64 : ir::f32;
    const QuantAxis q = quant_axis(ctx);
    const std::vector<int64_t>& shape = ctx.shape(0);
    return {ir::compute("quantize", shape, [&](const Index& i) {
      Expr scale = ir::cast(math, load_param(ctx, 1, shape, q, i));
      Expr v = ir::call("round", {ir::cast(math, ir::load(ctx.param(0), i)) / scale});
      if (ctx.has_input(2)) v = v + ir::cast(math, load_param(ctx, 2, shape, q, i));
      return saturate(v, out);
    })};
  };
  return def;
}

OpDef dequantize_linear() {
  OpDef def{"DequantizeLinear"};
  def.min_opset = 10;
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType x_t = ctx.dtype(0), out = ctx.dtype(1);
    TM_OP_CHECK(ctx, x_t == ir::i32 || x_t == ir::u8 || x_t == ir::i8 || x_t == ir::i16)
        << "x of dtype " << x_t.name() << " is not supported";
    TM_OP_CHECK(ctx, out.is_float()) << "a scale of dtype " << out.name() << " is not supported";
    TM_OP_CHECK(ctx, !ctx.has_input(2) || ctx.dtype(2) == x_t)
        << "the zero point's dtype must be x's";
    const ir::DType math = out == ir::f64 ? ir::f64 : ir::f32;
    const QuantAxis q = quant_axis(ctx);
    const std::vector<int64_t>& shape = ctx.shape(0);
    return {ir::compute("dequantize", shape, [&](const Index& i) {
      Expr v = ir::cast(math, ir::load(ctx.param(0), i));
      if (ctx.has_input(2)) v = v - ir::cast(math, load_param(ctx, 2, shape, q, i));
      return ir::cast(out, v * ir::cast(math, load_param(ctx, 1, shape, q, i)));
    })};
  };
  return def;
}

// u8 quantization of x over the range [min(x, 0), max(x, 0)]: scale = range / 255 and the zero
// point where 0 lands. All-zero (or empty) x gives scale 0, zero point 0 and y 0.
OpDef dynamic_quantize_linear() {
  OpDef def{"DynamicQuantizeLinear"};
  def.min_opset = 11;
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType x_t = ctx.dtype(0);
    TM_OP_CHECK(ctx, x_t.is_float()) << "x of dtype " << x_t.name() << " is not supported";
    const ir::DType math = x_t == ir::f64 ? ir::f64 : ir::f32;
    const std::vector<int64_t>& shape = ctx.shape(0);
    const ir::Var x = ctx.param(0);
    auto value = [&](const Index& i) { return ir::cast(math, ir::load(x, i)); };
    // The extreme of x and 0.
    auto extreme = [&](ir::ReduceOp op, const std::string& name) {
      return ir::compute(name, {}, [&](const Index&) {
        Expr zero = ir::make_const(math, 0);
        if (num_elements(shape) == 0) return zero;
        Expr e = ir::reduce(op, shape, value);
        return op == ir::ReduceOp::min ? ir::min(e, zero) : ir::max(e, zero);
      });
    };
    Expr lo = extreme(ir::ReduceOp::min, "x_min");
    Expr hi = extreme(ir::ReduceOp::max, "x_max");
    Expr scale = ir::compute("y_scale", {}, [&](const Index&) {
      return ir::cast(ir::f32, (ir::load(hi, {}) - ir::load(lo, {})) / ir::make_const(math, 255));
    });
    // x / scale, 0 when the scale is 0 (x is all zeros then).
    auto scaled = [&](Expr v) {
      Expr s = ir::cast(math, ir::load(scale, {}));
      return ir::select(s > ir::make_const(math, 0), v / s, ir::make_const(math, 0));
    };
    Expr zero_point = ir::compute("y_zero_point", {}, [&](const Index&) {
      return saturate(ir::call("round", {-scaled(ir::load(lo, {}))}), ir::u8);
    });
    Expr y = ir::compute("y", shape, [&](const Index& i) {
      Expr v = ir::call("round", {scaled(value(i))});
      return saturate(v + ir::cast(math, ir::load(zero_point, {})), ir::u8);
    });
    return {y, scale, zero_point};
  };
  return def;
}

}  // namespace

void register_quantize_ops(std::vector<OpDef>& defs) {
  defs.push_back(quantize_linear());
  defs.push_back(dequantize_linear());
  defs.push_back(dynamic_quantize_linear());
}

}  // namespace taskmap::graph::ops
