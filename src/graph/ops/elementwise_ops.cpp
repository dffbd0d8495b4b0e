// Elementwise operators: unary math, binary arithmetic with broadcasting, comparisons, logic.
#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {
namespace {

OpDef unary(std::string type, std::function<ir::Expr(const ir::Expr&)> fn) {
  OpDef def{type};
  def.lower = [type, fn](const OpContext& ctx) -> Outputs {
    return {elementwise(ctx, type, {0}, [&](const std::vector<ir::Expr>& v) { return fn(v[0]); })};
  };
  return def;
}

OpDef binary(std::string type, std::function<ir::Expr(const ir::Expr&, const ir::Expr&)> fn) {
  OpDef def{type};
  def.lower = [type, fn](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.dtype(0) == ctx.dtype(1))
        << "inputs must have the same dtype, got " << ctx.dtype(0).name() << " and "
        << ctx.dtype(1).name();
    return {elementwise(ctx, type, {0, 1},
                        [&](const std::vector<ir::Expr>& v) { return fn(v[0], v[1]); })};
  };
  return def;
}

}  // namespace

void register_elementwise_ops(std::vector<OpDef>& defs) {
  defs.push_back(
      unary("Relu", [](const ir::Expr& x) { return ir::max(x, constant(x.dtype(), 0)); }));
  defs.push_back(binary("Add", [](const ir::Expr& a, const ir::Expr& b) { return a + b; }));
  defs.push_back(binary("Sub", [](const ir::Expr& a, const ir::Expr& b) { return a - b; }));
  defs.push_back(binary("Mul", [](const ir::Expr& a, const ir::Expr& b) { return a * b; }));
}

}  // namespace taskmap::graph::ops
