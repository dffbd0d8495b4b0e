// Binary and variadic operators with broadcasting: arithmetic, Mod, Pow, comparisons, logic,
// BitShift, Where, Max / Min / Mean / Sum.
#include "graph/ops/elementwise_common.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;

// Python-style integer modulo (the sign of the divisor) when fmod=0, C fmod when fmod=1.
Expr mod(const OpContext& ctx, const Expr& a, const Expr& b) {
  int64_t fmod = ctx.attr_int("fmod", 0);
  TM_OP_CHECK(ctx, fmod == 0 || fmod == 1) << "fmod=" << fmod << " is not supported";
  Expr r = a % b;
  if (fmod == 1 || (a.dtype().is_int() && !a.dtype().is_signed())) return r;
  Expr z = like(r, 0);
  return ir::select(ir::ne(r, z) && ir::ne(r < z, b < z), r + b, r);
}

// Base and exponent may have different dtypes; the result has the base's. Integer bases compute
// in f64 (exact for results below 2^53) and truncate back.
OpDef pow() {
  OpDef def{"Pow"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_dtype(ctx, 0, Accepts::numbers);
    check_dtype(ctx, 1, Accepts::numbers);
    ir::DType dtype = ctx.dtype(0);
    ir::DType work =
        dtype == ir::f64 || dtype.is_int() || ctx.dtype(1) == ir::f64 ? ir::f64 : ir::f32;
    // A constant small integer exponent on a float base (x², x³ in GELU's tanh form) is a
    // product: pow() costs some hundred cycles an element, and the product is exact to an ulp.
    if (dtype.is_float() && ctx.has_value(1) && shape_numel(ctx.shape(1)) == 1) {
      const double e = ctx.value_scalar(1);
      if (e == 1 || e == 2 || e == 3) {
        return {broadcast_binary(ctx, "Pow", [&](const Expr& a, const Expr&) {
          Expr product = a;
          for (int i = 1; i < static_cast<int>(e); ++i) product = product * a;
          return product;
        })};
      }
    }
    return {broadcast_binary(ctx, "Pow", [&](const Expr& a, const Expr& b) {
      return ir::cast(dtype, ir::call("pow", {ir::cast(work, a), ir::cast(work, b)}));
    })};
  };
  return def;
}

OpDef bit_shift() {
  return binary_op(
      "BitShift", Accepts::ints, [](const OpContext& ctx, const Expr& a, const Expr& b) {
        TM_OP_CHECK(ctx, !a.dtype().is_signed())
            << "dtype " << a.dtype().name()
            << " is not supported (BitShift takes unsigned integers)";
        std::string direction = ctx.attr_string("direction", "");
        TM_OP_CHECK(ctx, direction == "LEFT" || direction == "RIGHT")
            << "direction=\"" << direction << "\" is not supported (supported: LEFT, RIGHT)";
        Expr shifted =
            ir::binary(direction == "LEFT" ? ir::BinaryOp::shl : ir::BinaryOp::shr, a, b);
        // Shifting out every bit gives 0 (a C shift by the width or more is undefined).
        return ir::select(b < like(b, a.dtype().bits()), shifted, like(a, 0));
      });
}

OpDef where() {
  OpDef def{"Where"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_dtype(ctx, 0, Accepts::bools);
    TM_OP_CHECK(ctx, ctx.dtype(1) == ctx.dtype(2))
        << "X and Y must have the same dtype, got " << ctx.dtype(1).name() << " and "
        << ctx.dtype(2).name();
    return {elementwise(ctx, "Where", {0, 1, 2},
                        [](const std::vector<Expr>& v) { return ir::select(v[0], v[1], v[2]); })};
  };
  return def;
}

// Max, Min, Sum, Mean: a fold over any number of inputs, broadcast together.
OpDef variadic(std::string type, Accepts accepts,
               std::function<Expr(const Expr&, const Expr&)> combine, bool mean = false) {
  OpDef def{type};
  def.lower = [type, accepts, combine, mean](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.num_inputs() >= 1) << "needs at least one input";
    std::vector<int> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      TM_OP_CHECK(ctx, ctx.has_input(i)) << "input " << i << " is missing";
      check_dtype(ctx, i, accepts);
      TM_OP_CHECK(ctx, ctx.dtype(i) == ctx.dtype(0))
          << "inputs must have the same dtype, got " << ctx.dtype(0).name() << " and "
          << ctx.dtype(i).name();
      inputs.push_back(i);
    }
    return {elementwise(ctx, type, inputs, [&](const std::vector<Expr>& v) {
      return in_f32(v, [&](const std::vector<Expr>& w) {
        Expr acc = w[0];
        for (size_t i = 1; i < w.size(); ++i) acc = combine(acc, w[i]);
        return mean ? acc / like(acc, static_cast<double>(w.size())) : acc;
      });
    })};
  };
  return def;
}

// A binary operator given by an expression of its operands alone.
OpDef simple(std::string type, Accepts accepts, std::function<Expr(const Expr&, const Expr&)> fn) {
  return binary_op(std::move(type), accepts,
                   [fn](const OpContext&, const Expr& a, const Expr& b) { return fn(a, b); });
}

}  // namespace

void register_binary_ops(std::vector<OpDef>& defs) {
  defs.push_back(
      simple("Add", Accepts::numbers, [](const Expr& a, const Expr& b) { return a + b; }));
  defs.push_back(
      simple("Sub", Accepts::numbers, [](const Expr& a, const Expr& b) { return a - b; }));
  defs.push_back(
      simple("Mul", Accepts::numbers, [](const Expr& a, const Expr& b) { return a * b; }));
  // Integer division truncates toward zero, as C's.
  defs.push_back(
      simple("Div", Accepts::numbers, [](const Expr& a, const Expr& b) { return a / b; }));
  defs.push_back(binary_op("Mod", Accepts::numbers, mod));
  defs.push_back(pow());
  defs.push_back(
      simple("Equal", Accepts::all, [](const Expr& a, const Expr& b) { return ir::eq(a, b); }));
  defs.push_back(
      simple("Less", Accepts::numbers, [](const Expr& a, const Expr& b) { return a < b; }));
  defs.push_back(
      simple("LessOrEqual", Accepts::numbers, [](const Expr& a, const Expr& b) { return a <= b; }));
  defs.push_back(
      simple("Greater", Accepts::numbers, [](const Expr& a, const Expr& b) { return a > b; }));
  defs.push_back(simple("GreaterOrEqual", Accepts::numbers,
                        [](const Expr& a, const Expr& b) { return a >= b; }));
  defs.push_back(
      simple("And", Accepts::bools, [](const Expr& a, const Expr& b) { return a && b; }));
  defs.push_back(simple("Or", Accepts::bools, [](const Expr& a, const Expr& b) { return a || b; }));
  defs.push_back(
      simple("Xor", Accepts::bools, [](const Expr& a, const Expr& b) { return ir::ne(a, b); }));
  defs.push_back(bit_shift());
  defs.push_back(where());
  defs.push_back(variadic("Max", Accepts::numbers,
                          [](const Expr& a, const Expr& b) { return ir::max(a, b); }));
  defs.push_back(variadic("Min", Accepts::numbers,
                          [](const Expr& a, const Expr& b) { return ir::min(a, b); }));
  defs.push_back(
      variadic("Sum", Accepts::numbers, [](const Expr& a, const Expr& b) { return a + b; }));
  defs.push_back(variadic(
      "Mean", Accepts::floats, [](const Expr& a, const Expr& b) { return a + b; }, true));
}

}  // namespace taskmap::graph::ops
