// Unary math operators: Abs, Neg, Sign, Reciprocal, rounding, exponentials, trigonometry, Erf,
// IsNaN, IsInf, Not.
#include <cctype>

#include "graph/ops/elementwise_common.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;

// A float operator that is one primitive call.
OpDef primitive_op(std::string type, std::string primitive) {
  return unary_op(std::move(type), Accepts::floats, [primitive](const OpContext&, const Expr& x) {
    return ir::call(primitive, {x});
  });
}

Expr is_nan(const Expr& x) {
  return ir::call("isnan", {x}, ir::boolean);
}

Expr sign(const Expr& x) {
  Expr s =
      ir::select(x > like(x, 0), like(x, 1), ir::select(x < like(x, 0), like(x, -1), like(x, 0)));
  return x.dtype().is_float() ? ir::select(is_nan(x), x, s) : s;
}

Expr is_inf(const OpContext& ctx, const Expr& x) {
  bool positive = ctx.attr_int("detect_positive", 1) != 0;
  bool negative = ctx.attr_int("detect_negative", 1) != 0;
  Expr inf = ir::call("isinf", {x}, ir::boolean);
  if (positive && negative) return inf;
  if (positive) return inf && x > like(x, 0);
  if (negative) return inf && x < like(x, 0);
  return ir::bool_imm(false);
}

}  // namespace

void register_math_ops(std::vector<OpDef>& defs) {
  defs.push_back(unary_op("Abs", Accepts::numbers, [](const OpContext&, const Expr& x) {
    return x.dtype().is_int() && !x.dtype().is_signed() ? x : ir::call("abs", {x});
  }));
  defs.push_back(
      unary_op("Neg", Accepts::signed_numbers, [](const OpContext&, const Expr& x) { return -x; }));
  defs.push_back(
      unary_op("Sign", Accepts::numbers, [](const OpContext&, const Expr& x) { return sign(x); }));
  defs.push_back(unary_op("Reciprocal", Accepts::floats,
                          [](const OpContext&, const Expr& x) { return like(x, 1) / x; }));
  for (const char* name :
       {"Floor", "Ceil", "Round", "Exp", "Log", "Sqrt", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos",
        "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh"}) {
    std::string primitive = name;
    for (char& c : primitive) c = static_cast<char>(std::tolower(c));
    defs.push_back(primitive_op(name, primitive));
  }
  defs.push_back(unary_op("IsNaN", Accepts::floats,
                          [](const OpContext&, const Expr& x) { return is_nan(x); }));
  defs.push_back(unary_op("IsInf", Accepts::floats, is_inf));
  defs.push_back(
      unary_op("Not", Accepts::bools, [](const OpContext&, const Expr& x) { return !x; }));
}

}  // namespace taskmap::graph::ops
