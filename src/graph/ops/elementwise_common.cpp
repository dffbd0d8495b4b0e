// Helpers of the elementwise operator family.
#include "graph/ops/elementwise_common.h"

namespace taskmap::graph::ops {
namespace {

bool accepted(ir::DType dtype, Accepts accepts) {
  switch (accepts) {
    case Accepts::floats:
      return dtype.is_float();
    case Accepts::signed_numbers:
      return dtype.is_float() || (dtype.is_int() && dtype.is_signed());
    case Accepts::numbers:
      return dtype.is_float() || dtype.is_int();
    case Accepts::ints:
      return dtype.is_int();
    case Accepts::bools:
      return dtype.is_bool();
    case Accepts::all:
      return true;
  }
  return false;
}

const char* accepted_names(Accepts accepts) {
  switch (accepts) {
    case Accepts::floats:
      return "float types";
    case Accepts::signed_numbers:
      return "float and signed integer types";
    case Accepts::numbers:
      return "numeric types";
    case Accepts::ints:
      return "integer types";
    case Accepts::bools:
      return "bool";
    case Accepts::all:
      return "all types";
  }
  return "";
}

bool is_half(ir::DType dtype) {
  return dtype == ir::f16 || dtype == ir::bf16;
}

}  // namespace

void check_dtype(const OpContext& ctx, int input, Accepts accepts) {
  ir::DType dtype = ctx.dtype(input);
  TM_OP_CHECK(ctx, accepted(dtype, accepts))
      << "input " << input << " of dtype " << dtype.name()
      << " is not supported (supported: " << accepted_names(accepts) << ")";
}

ir::Expr like(const ir::Expr& x, double value) {
  return constant(x.dtype(), value);
}

ir::Expr in_f32(const std::vector<ir::Expr>& args,
                const std::function<ir::Expr(const std::vector<ir::Expr>&)>& fn) {
  ir::DType dtype = args.at(0).dtype();
  if (!is_half(dtype)) return fn(args);
  std::vector<ir::Expr> wide;
  for (const ir::Expr& a : args) wide.push_back(is_half(a.dtype()) ? ir::cast(ir::f32, a) : a);
  ir::Expr result = fn(wide);
  return result.dtype() == ir::f32 ? ir::cast(dtype, result) : result;
}

OpDef unary_op(std::string type, Accepts accepts, UnaryFn fn) {
  OpDef def{type};
  def.lower = [type, accepts, fn](const OpContext& ctx) -> Outputs {
    check_dtype(ctx, 0, accepts);
    return {elementwise(ctx, type, {0}, [&](const std::vector<ir::Expr>& v) {
      return in_f32(v, [&](const std::vector<ir::Expr>& w) { return fn(ctx, w[0]); });
    })};
  };
  return def;
}

ir::Expr broadcast_binary(const OpContext& ctx, const std::string& name,
                          const std::function<ir::Expr(const ir::Expr&, const ir::Expr&)>& fn) {
  bool legacy = ctx.opset() > 0 && ctx.opset() < 7 && ctx.attr_int("broadcast", 0) != 0;
  if (!legacy) {
    return elementwise(ctx, name, {0, 1},
                       [&](const std::vector<ir::Expr>& v) { return fn(v[0], v[1]); });
  }
  // Legacy broadcast: B's dims line up with A's dims axis, axis + 1, ... (default: the trailing
  // ones); B's size-1 dims repeat.
  const std::vector<int64_t>& a_shape = ctx.shape(0);
  const std::vector<int64_t>& b_shape = ctx.shape(1);
  int64_t a_rank = ctx.rank(0);
  int64_t b_rank = ctx.rank(1);
  int64_t axis =
      ctx.has_attr("axis") ? normalize_axis(ctx, ctx.attr_int("axis"), a_rank) : a_rank - b_rank;
  TM_OP_CHECK(ctx, axis >= 0 && axis + b_rank <= a_rank)
      << "B of rank " << b_rank << " does not fit A of rank " << a_rank << " at axis " << axis;
  for (int64_t d = 0; d < b_rank; ++d) {
    TM_OP_CHECK(ctx, b_shape[d] == 1 || b_shape[d] == a_shape[axis + d])
        << "B's dimension " << d << " (" << b_shape[d] << ") does not match A's dimension "
        << axis + d << " (" << a_shape[axis + d] << ")";
  }
  ir::Var a = ctx.param(0);
  ir::Var b = ctx.param(1);
  return ir::compute(name, a_shape, [&](const ir::Index& idx) {
    ir::Index b_idx;
    for (int64_t d = 0; d < b_rank; ++d)
      b_idx.push_back(b_shape[d] == 1 ? ir::Expr(0) : idx[axis + d]);
    return fn(ir::load(a, idx), ir::load(b, b_idx));
  });
}

OpDef binary_op(std::string type, Accepts accepts, BinaryFn fn) {
  OpDef def{type};
  def.lower = [type, accepts, fn](const OpContext& ctx) -> Outputs {
    check_dtype(ctx, 0, accepts);
    TM_OP_CHECK(ctx, ctx.dtype(0) == ctx.dtype(1))
        << "inputs must have the same dtype, got " << ctx.dtype(0).name() << " and "
        << ctx.dtype(1).name();
    return {broadcast_binary(ctx, type,
                             [&](const ir::Expr& a, const ir::Expr& b) { return fn(ctx, a, b); })};
  };
  return def;
}

}  // namespace taskmap::graph::ops
