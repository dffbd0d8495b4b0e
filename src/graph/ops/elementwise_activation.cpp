// Activation operators: Relu and its variants, sigmoids, softplus family, Gelu, Shrink, PRelu,
// Clip.
#include <cmath>
#include <numbers>

#include "graph/ops/elementwise_common.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;

Expr zero(const Expr& x) {
  return like(x, 0);
}

Expr softplus(const Expr& x) {
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which does not overflow.
  Expr e = ir::call("exp", {-ir::call("abs", {x})});
  return ir::max(x, zero(x)) + ir::call("log", {like(x, 1) + e});
}

Expr elu(const OpContext& ctx, const Expr& x) {
  double alpha = ctx.attr_float("alpha", 1.0);
  return ir::select(x < zero(x), like(x, alpha) * (ir::call("exp", {x}) - like(x, 1)), x);
}

Expr celu(const OpContext& ctx, const Expr& x) {
  double alpha = ctx.attr_float("alpha", 1.0);
  Expr negative = like(x, alpha) * (ir::call("exp", {x / like(x, alpha)}) - like(x, 1));
  return ir::max(x, zero(x)) + ir::min(zero(x), negative);
}

Expr selu(const OpContext& ctx, const Expr& x) {
  double alpha = ctx.attr_float("alpha", 1.67326319217681884765625);
  double gamma = ctx.attr_float("gamma", 1.05070102214813232421875);
  Expr negative = like(x, alpha) * ir::call("exp", {x}) - like(x, alpha);
  return like(x, gamma) * ir::select(x > zero(x), x, negative);
}

Expr hard_sigmoid(const Expr& x, double alpha, double beta) {
  return ir::max(zero(x), ir::min(like(x, 1), like(x, alpha) * x + like(x, beta)));
}

Expr gelu(const OpContext& ctx, const Expr& x) {
  std::string approximate = ctx.attr_string("approximate", "none");
  if (approximate == "tanh") {
    Expr inner = like(x, std::sqrt(2.0 / std::numbers::pi)) * (x + like(x, 0.044715) * x * x * x);
    return like(x, 0.5) * x * (like(x, 1) + ir::call("tanh", {inner}));
  }
  TM_OP_CHECK(ctx, approximate == "none")
      << "approximate=\"" << approximate << "\" is not supported (supported: none, tanh)";
  return like(x, 0.5) * x * (like(x, 1) + ir::call("erf", {x * like(x, std::numbers::sqrt2 / 2)}));
}

Expr shrink(const OpContext& ctx, const Expr& x) {
  double lambd = ctx.attr_float("lambd", 0.5);
  double bias = ctx.attr_float("bias", 0.0);
  // Integers compare against the float thresholds exactly in f64, then convert back.
  Expr v = x.dtype().is_int() ? ir::cast(ir::f64, x) : x;
  Expr y = ir::select(v < like(v, -lambd), v + like(v, bias),
                      ir::select(v > like(v, lambd), v - like(v, bias), zero(v)));
  return ir::cast(x.dtype(), y);
}

// A scalar input (any rank, one element) read at its only element.
Expr load_scalar(const OpContext& ctx, int input) {
  int64_t count = 1;
  for (int64_t d : ctx.shape(input)) count *= d;
  TM_OP_CHECK(ctx, count == 1) << "input " << input << " must have one element, it has " << count;
  return ir::load(ctx.param(input), ir::Index(ctx.rank(input), ir::Expr(0)));
}

OpDef clip() {
  OpDef def{"Clip"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_dtype(ctx, 0, Accepts::numbers);
    ir::DType dtype = ctx.dtype(0);
    bool bounds_as_attrs = ctx.opset() > 0 && ctx.opset() < 11;
    std::optional<Expr> lo, hi;
    if (bounds_as_attrs) {
      if (ctx.has_attr("min")) lo = constant(dtype, ctx.attr_float("min", 0));
      if (ctx.has_attr("max")) hi = constant(dtype, ctx.attr_float("max", 0));
    }
    for (int i : {1, 2}) {
      if (bounds_as_attrs || !ctx.has_input(i)) continue;
      TM_OP_CHECK(ctx, ctx.dtype(i) == dtype)
          << "input " << i << " has dtype " << ctx.dtype(i).name() << ", input 0 has "
          << dtype.name();
      (i == 1 ? lo : hi) = load_scalar(ctx, i);
    }
    return {ir::compute("Clip", ctx.shape(0), [&](const ir::Index& idx) {
      Expr y = ir::load(ctx.param(0), idx);
      if (lo) y = ir::max(y, *lo);
      if (hi) y = ir::min(y, *hi);
      return y;
    })};
  };
  return def;
}

}  // namespace

void register_activation_ops(std::vector<OpDef>& defs) {
  defs.push_back(unary_op("Relu", Accepts::numbers,
                          [](const OpContext&, const Expr& x) { return ir::max(x, zero(x)); }));
  defs.push_back(unary_op("LeakyRelu", Accepts::floats, [](const OpContext& ctx, const Expr& x) {
    return ir::select(x < zero(x), like(x, ctx.attr_float("alpha", 0.01)) * x, x);
  }));
  defs.push_back(
      unary_op("ThresholdedRelu", Accepts::floats, [](const OpContext& ctx, const Expr& x) {
        return ir::select(x > like(x, ctx.attr_float("alpha", 1.0)), x, zero(x));
      }));
  defs.push_back(unary_op("Elu", Accepts::floats, elu));
  defs.push_back(unary_op("Celu", Accepts::floats, celu));
  defs.push_back(unary_op("Selu", Accepts::floats, selu));
  defs.push_back(unary_op("Sigmoid", Accepts::floats, [](const OpContext&, const Expr& x) {
    return ir::call("sigmoid", {x});
  }));
  defs.push_back(unary_op("HardSigmoid", Accepts::floats, [](const OpContext& ctx, const Expr& x) {
    return hard_sigmoid(x, ctx.attr_float("alpha", 0.2), ctx.attr_float("beta", 0.5));
  }));
  defs.push_back(unary_op("HardSwish", Accepts::floats, [](const OpContext&, const Expr& x) {
    return x * hard_sigmoid(x, 1.0 / 6, 0.5);
  }));
  defs.push_back(unary_op("Softplus", Accepts::floats,
                          [](const OpContext&, const Expr& x) { return softplus(x); }));
  defs.push_back(unary_op("Softsign", Accepts::floats, [](const OpContext&, const Expr& x) {
    return x / (like(x, 1) + ir::call("abs", {x}));
  }));
  defs.push_back(unary_op("Mish", Accepts::floats, [](const OpContext&, const Expr& x) {
    return x * ir::call("tanh", {softplus(x)});
  }));
  defs.push_back(unary_op("Gelu", Accepts::floats, gelu));
  defs.push_back(unary_op("Shrink", Accepts::numbers, shrink));
  defs.push_back(
      binary_op("PRelu", Accepts::numbers, [](const OpContext&, const Expr& x, const Expr& slope) {
        return ir::select(x < zero(x), slope * x, x);
      }));
  defs.push_back(clip());
}

}  // namespace taskmap::graph::ops
