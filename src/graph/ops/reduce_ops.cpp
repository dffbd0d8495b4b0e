// Reductions: Reduce{Sum,SumSquare,Mean,Prod,Max,Min,L1,L2,LogSum,LogSumExp}, ArgMax, ArgMin.
// The other files of the family (softmax, scans, normalizations) register from here too.
#include <limits>

#include "graph/ops/reduce_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::ReduceOp;

// The reduction a Reduce* node asks for: axes from input 1 (ReduceSum from opset 13, the others
// from opset 18) or the `axes` attribute; none given reduces every dim, unless
// noop_with_empty_axes, which reduces none.
Reduction node_reduction(const OpContext& ctx) {
  std::vector<int64_t> axes =
      ctx.has_input(1) ? ctx.value_ints(1) : ctx.attr_ints("axes", std::vector<int64_t>{});
  int64_t rank = ctx.rank(0);
  if (axes.empty() && ctx.attr_int("noop_with_empty_axes", 0) == 0) {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  return Reduction(ctx.shape(0), normalize_axes(ctx, axes, rank), ctx.attr_int("keepdims", 1) != 0);
}

// Float math on `x` in math_dtype (integers go through f64).
Expr float_math(const char* primitive, const Expr& x) {
  ir::DType t = math_dtype(x.dtype());
  return ir::call(primitive, {ir::cast(t, x)});
}

// A Reduce* operator: post(op over the reduced dims of pre(x))), pre applied to x in the
// accumulation dtype (f32 for f16 / bf16), the result cast back to x's dtype.
OpDef reduce_op(std::string type, ReduceOp op, std::function<Expr(const Expr&)> pre,
                std::function<Expr(const Expr&)> post) {
  OpDef def{type};
  def.lower = [type, op, pre, post](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, !ctx.dtype(0).is_bool()) << "bool inputs are not supported";
    Reduction reduction = node_reduction(ctx);
    ir::DType dtype = ctx.dtype(0);
    ir::DType acc = dtype == ir::f16 || dtype == ir::bf16 ? ir::f32 : dtype;
    ir::Var x = ctx.param(0);
    return {ir::compute(type, reduction.out_shape(), [&](const ir::Index& out) {
      Expr r = reduce_dims(
          ctx, op, reduction, out,
          [&](const ir::Index& in) { return pre(ir::cast(acc, ir::load(x, in))); }, acc);
      return ir::cast(dtype, post(r));
    })};
  };
  return def;
}

Expr identity(const Expr& x) {
  return x;
}

// log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (finite) maximum.
OpDef reduce_log_sum_exp() {
  OpDef def{"ReduceLogSumExp"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, !ctx.dtype(0).is_bool()) << "bool inputs are not supported";
    Reduction reduction = node_reduction(ctx);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    ir::Var x = ctx.param(0);
    auto value = [&](const ir::Index& in) { return ir::cast(t, ir::load(x, in)); };
    Expr max = ir::compute("max", reduction.out_shape(), [&](const ir::Index& out) {
      Expr m = reduce_dims(ctx, ReduceOp::max, reduction, out, value, t);
      // An infinite maximum (all -inf, or some +inf) shifts by nothing.
      Expr inf = ir::float_imm(std::numeric_limits<double>::infinity(), t);
      return ir::select(ir::call("abs", {m}) < inf, m, ir::make_const(t, 0));
    });
    return {ir::compute("reducelogsumexp", reduction.out_shape(), [&](const ir::Index& out) {
      Expr m = ir::load(max, out);
      Expr s = reduce_dims(
          ctx, ReduceOp::sum, reduction, out,
          [&](const ir::Index& in) { return ir::call("exp", {value(in) - m}); }, t);
      return ir::cast(dtype, ir::call("log", {s}) + m);
    })};
  };
  return def;
}

// ArgMax / ArgMin along `axis`: the first extreme element, or the last with select_last_index.
OpDef arg_op(std::string type, ReduceOp op) {
  OpDef def{type};
  def.lower = [type, op](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, !ctx.dtype(0).is_bool()) << "bool inputs are not supported";
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank > 0) << "the input must have rank 1 or more";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
    bool last = ctx.attr_int("select_last_index", 0) != 0;
    Reduction reduction(ctx.shape(0), {axis}, ctx.attr_int("keepdims", 1) != 0);
    int64_t n = ctx.shape(0)[axis];
    ir::Var x = ctx.param(0);
    return {ir::compute(type, reduction.out_shape(), [&](const ir::Index& out) {
      Expr pos = reduce_dims(ctx, op, reduction, out, [&](const ir::Index& in) {
        if (!last) return ir::load(x, in);
        // Scan the axis backwards: the first extreme found is the last one.
        ir::Index reversed = in;
        reversed[axis] = Expr(n - 1) - in[axis];
        return ir::load(x, reversed);
      });
      return last ? Expr(n - 1) - pos : pos;
    })};
  };
  return def;
}

}  // namespace

void register_reduce_ops(std::vector<OpDef>& defs) {
  auto square = [](const Expr& x) { return x * x; };
  auto abs = [](const Expr& x) { return ir::call("abs", {x}); };
  auto sqrt = [](const Expr& x) { return float_math("sqrt", x); };
  auto log = [](const Expr& x) { return float_math("log", x); };
  defs.push_back(reduce_op("ReduceSum", ReduceOp::sum, identity, identity));
  defs.push_back(reduce_op("ReduceSumSquare", ReduceOp::sum, square, identity));
  defs.push_back(reduce_op("ReduceMean", ReduceOp::mean, identity, identity));
  defs.push_back(reduce_op("ReduceProd", ReduceOp::prod, identity, identity));
  defs.push_back(reduce_op("ReduceMax", ReduceOp::max, identity, identity));
  defs.push_back(reduce_op("ReduceMin", ReduceOp::min, identity, identity));
  defs.push_back(reduce_op("ReduceL1", ReduceOp::sum, abs, identity));
  defs.push_back(reduce_op("ReduceL2", ReduceOp::sum, square, sqrt));
  defs.push_back(reduce_op("ReduceLogSum", ReduceOp::sum, identity, log));
  defs.push_back(reduce_log_sum_exp());
  defs.push_back(arg_op("ArgMax", ReduceOp::argmax));
  defs.push_back(arg_op("ArgMin", ReduceOp::argmin));
  register_softmax_ops(defs);
  register_scan_ops(defs);
  register_norm_ops(defs);
}

}  // namespace taskmap::graph::ops
