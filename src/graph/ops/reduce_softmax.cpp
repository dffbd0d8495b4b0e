// Softmax, LogSoftmax and Hardmax. Before opset 13 they treat the input as a 2-D matrix, the dims
// from `axis` on flattened into one (default axis 1); from opset 13 they work along the one dim
// `axis` (default -1). Softmax subtracts the maximum before exponentiating and runs in f32 for
// f16 / bf16 inputs.
#include "graph/ops/reduce_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::ReduceOp;

// The dims the node normalizes over.
std::vector<int64_t> softmax_axes(const OpContext& ctx) {
  int64_t rank = ctx.rank(0);
  TM_OP_CHECK(ctx, rank > 0) << "the input must have rank 1 or more";
  bool coerce_2d = ctx.opset() != 0 && ctx.opset() < 13;
  int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", coerce_2d ? 1 : -1), rank);
  if (!coerce_2d) return {axis};
  std::vector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d) axes.push_back(d);
  return axes;
}

// The index of the reduced (keepdims) tensor that input index `i` reads.
ir::Index kept_index(const ir::Index& i, const std::vector<int64_t>& axes) {
  ir::Index kept = i;
  for (int64_t a : axes) kept[a] = Expr(0);
  return kept;
}

OpDef softmax(std::string type, bool log) {
  OpDef def{type};
  def.lower = [type, log](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    std::vector<int64_t> axes = softmax_axes(ctx);
    Reduction reduction(ctx.shape(0), axes, true);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    ir::Var x = ctx.param(0);
    auto value = [&](const ir::Index& i) { return ir::cast(t, ir::load(x, i)); };
    Expr max = ir::compute("max", reduction.out_shape(), [&](const ir::Index& out) {
      return reduce_dims(ctx, ReduceOp::max, reduction, out, value, t);
    });
    Expr sum = ir::compute("sum", reduction.out_shape(), [&](const ir::Index& out) {
      return reduce_dims(
          ctx, ReduceOp::sum, reduction, out,
          [&](const ir::Index& i) { return ir::call("exp", {value(i) - ir::load(max, out)}); }, t);
    });
    return {ir::compute(type, ctx.shape(0), [&](const ir::Index& i) {
      ir::Index kept = kept_index(i, axes);
      Expr shifted = value(i) - ir::load(max, kept);
      Expr y = log ? shifted - ir::call("log", {ir::load(sum, kept)})
                   : ir::call("exp", {shifted}) / ir::load(sum, kept);
      return ir::cast(dtype, y);
    })};
  };
  return def;
}

// 1 at the first maximum of each row, 0 elsewhere.
OpDef hardmax() {
  OpDef def{"Hardmax"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, !ctx.dtype(0).is_bool()) << "bool inputs are not supported";
    std::vector<int64_t> axes = softmax_axes(ctx);
    Reduction reduction(ctx.shape(0), axes, true);
    const std::vector<int64_t>& shape = ctx.shape(0);
    ir::DType dtype = ctx.dtype(0);
    ir::Var x = ctx.param(0);
    Expr argmax = ir::compute("argmax", reduction.out_shape(), [&](const ir::Index& out) {
      if (reduction.is_empty()) return ir::int_imm(0, ir::i64);  // no elements to mark
      return reduce_dims(ctx, ReduceOp::argmax, reduction, out,
                         [&](const ir::Index& i) { return ir::load(x, i); });
    });
    return {ir::compute("hardmax", shape, [&](const ir::Index& i) {
      Expr position = Expr(0);  // of i among the reduced dims, row-major
      for (int64_t a : axes) position = position * Expr(shape[a]) + i[a];
      return ir::select(ir::eq(ir::load(argmax, kept_index(i, axes)), position),
                        ir::make_const(dtype, 1), ir::make_const(dtype, 0));
    })};
  };
  return def;
}

}  // namespace

void register_softmax_ops(std::vector<OpDef>& defs) {
  defs.push_back(softmax("Softmax", false));
  defs.push_back(softmax("LogSoftmax", true));
  defs.push_back(hardmax());
}

}  // namespace taskmap::graph::ops
