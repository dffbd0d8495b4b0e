// CumSum and TopK: operators that relate each element to the others along one axis. Both are
// written as reductions over the whole axis (quadratic in its length): CumSum sums the elements
// before each one, TopK ranks each element by counting the ones that come before it.
#include "graph/ops/reduce_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::ReduceOp;

// out[i] = the sum of x along `axis` up to i (exclusive: before i; reverse: from the end).
OpDef cumsum() {
  OpDef def{"CumSum"};
  def.min_opset = 11;
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, !dtype.is_bool()) << "bool inputs are not supported";
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank > 0) << "the input must have rank 1 or more";
    std::vector<int64_t> axis_value = ctx.value_ints(1);
    TM_OP_CHECK(ctx, axis_value.size() == 1) << "axis must hold one value";
    int64_t axis = normalize_axis(ctx, axis_value[0], rank);
    bool exclusive = ctx.attr_int("exclusive", 0) != 0;
    bool reverse = ctx.attr_int("reverse", 0) != 0;
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t n = shape[axis];
    ir::DType acc = dtype == ir::f16 || dtype == ir::bf16 ? ir::f32 : dtype;
    ir::Var x = ctx.param(0);
    return {ir::compute("cumsum", shape, [&](const ir::Index& i) {
      if (n == 0) return ir::make_const(dtype, 0);  // the output is empty
      Expr sum = ir::reduce(ReduceOp::sum, {n}, [&](const ir::Index& r) {
        Expr k = r[0], at = i[axis];
        Expr included = reverse ? (exclusive ? k > at : k >= at) : (exclusive ? k < at : k <= at);
        ir::Index source = i;
        source[axis] = k;
        return ir::select(included, ir::cast(acc, ir::load(x, source)), ir::make_const(acc, 0));
      });
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

// The k largest (or smallest) elements along `axis`, sorted, and their indices; equal elements
// come in index order.
OpDef topk() {
  OpDef def{"TopK"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, !dtype.is_bool()) << "bool inputs are not supported";
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank > 0) << "the input must have rank 1 or more";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
    int64_t k;
    if (ctx.opset() != 0 && ctx.opset() < 10) {
      k = ctx.attr_int("k");
    } else {
      std::vector<int64_t> k_value = ctx.value_ints(1);
      TM_OP_CHECK(ctx, k_value.size() == 1) << "K must hold one value";
      k = k_value[0];
    }
    bool largest = ctx.attr_int("largest", 1) != 0;
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t n = shape[axis];
    TM_OP_CHECK(ctx, k >= 0 && k <= n)
        << "K = " << k << " is out of range for an axis of " << n << " elements";
    std::vector<int64_t> out_shape = shape;
    out_shape[axis] = k;
    ir::Var x = ctx.param(0);
    auto along = [axis](const ir::Index& i, Expr position) {
      ir::Index j = i;
      j[axis] = std::move(position);
      return j;
    };
    // rank[i]: how many elements along the axis come before x[i] in the output order.
    Expr order = ir::compute("rank", shape, [&](const ir::Index& i) -> Expr {
      if (n == 0) return ir::int_imm(0, ir::i64);
      Expr xi = ir::load(x, i);
      return ir::reduce(ReduceOp::sum, {n}, [&](const ir::Index& r) {
        Expr xr = ir::load(x, along(i, r[0]));
        Expr better = largest ? xr > xi : xr < xi;
        Expr before = better || (ir::eq(xr, xi) && r[0] < i[axis]);
        return ir::cast(ir::i64, before);
      });
    });
    Expr indices = ir::compute("indices", out_shape, [&](const ir::Index& o) -> Expr {
      if (n == 0) return ir::int_imm(0, ir::i64);
      return ir::reduce(ReduceOp::sum, {n}, [&](const ir::Index& r) {
        return ir::select(ir::eq(ir::load(order, along(o, r[0])), o[axis]), r[0],
                          ir::int_imm(0, ir::i64));
      });
    });
    Expr values = ir::compute("values", out_shape, [&](const ir::Index& o) {
      return ir::load(x, along(o, ir::load(indices, o)));
    });
    return {values, indices};
  };
  return def;
}

}  // namespace

void register_scan_ops(std::vector<OpDef>& defs) {
  defs.push_back(cumsum());
  defs.push_back(topk());
}

}  // namespace taskmap::graph::ops
