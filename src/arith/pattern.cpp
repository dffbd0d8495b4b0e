// The pattern language of the rewrite rules (see pattern.h): building patterns, matching them
// against expressions, evaluating predicates and folds, instantiating replacements.
#include "arith/pattern.h"

#include <cmath>

#include "arith/linear.h"
#include "taskmap/arith/evaluate.h"
#include "taskmap/error.h"

namespace taskmap::arith::pattern {
namespace {

using ir::BinaryOp;
using ir::DType;
using ir::Expr;
using ir::UnaryOp;

Pat make(PatNode node) {
  return Pat(std::make_shared<const PatNode>(std::move(node)));
}

Pat make_binary(BinaryOp op, const Pat& a, const Pat& b) {
  return make(PatNode{.kind = PatKind::binary, .binary_op = op, .a = a, .b = b});
}

Pat make_unary(UnaryOp op, const Pat& a) {
  return make(PatNode{.kind = PatKind::unary, .unary_op = op, .a = a});
}

Pat make_wrapper(PatKind kind, const Pat& a) {
  return make(PatNode{.kind = kind, .a = a});
}

// What one match binds.
struct Bindings {
  Expr exprs[kMaxWildcards];
  int64_t consts[kMaxWildcards] = {};
  bool const_bound[kMaxWildcards] = {};
  std::optional<DType> const_dtype;  // of the first constant matched
};

bool match(const PatNode& p, const Expr& e, Bindings& b) {
  switch (p.kind) {
    case PatKind::any:
      if (b.exprs[p.index].defined()) return same_expr(b.exprs[p.index], e);
      b.exprs[p.index] = e;
      return true;
    case PatKind::constant: {
      const auto* imm = e.as<ir::IntImmNode>();
      if (!imm || imm->type.dtype().is_bool()) return false;
      if (b.const_bound[p.index]) return b.consts[p.index] == imm->value;
      b.consts[p.index] = imm->value;
      b.const_bound[p.index] = true;
      if (!b.const_dtype) b.const_dtype = imm->type.dtype();
      return true;
    }
    case PatKind::literal:
      if (const auto* imm = e.as<ir::IntImmNode>()) return imm->value == p.value;
      if (const auto* imm = e.as<ir::FloatImmNode>()) {
        // 0 matches +0.0 only: x - 0.0 is x, x - (-0.0) is not.
        const double v = static_cast<double>(p.value);
        return imm->value == v && std::signbit(imm->value) == std::signbit(v);
      }
      return false;
    case PatKind::binary: {
      const auto* op = e.as<ir::BinaryNode>();
      return op && op->op == p.binary_op && match(*p.a, op->a, b) && match(*p.b, op->b, b);
    }
    case PatKind::unary: {
      const auto* op = e.as<ir::UnaryNode>();
      return op && op->op == p.unary_op && match(*p.a, op->a, b);
    }
    case PatKind::select: {
      const auto* op = e.as<ir::SelectNode>();
      return op && match(*p.a, op->cond, b) && match(*p.b, op->true_value, b) &&
             match(*p.c, op->false_value, b);
    }
    default:
      TM_UNREACHABLE() << "a fold or a predicate in a left-hand side";
  }
  return false;
}

struct Context {
  const Bindings& bindings;
  Prover& bounds;
  DType dtype;  // of the constants a replacement creates
};

std::optional<int64_t> eval_const(const PatNode& p, const Context& ctx);
Expr instantiate(const PatNode& p, const Context& ctx);

std::optional<int64_t> eval_binary(BinaryOp op, int64_t a, int64_t b) {
  int64_t r = 0;
  switch (op) {
    case BinaryOp::add:
      return __builtin_add_overflow(a, b, &r) ? std::nullopt : std::optional(r);
    case BinaryOp::sub:
      return __builtin_sub_overflow(a, b, &r) ? std::nullopt : std::optional(r);
    case BinaryOp::mul:
      return __builtin_mul_overflow(a, b, &r) ? std::nullopt : std::optional(r);
    case BinaryOp::div:
    case BinaryOp::mod:
      if (b == 0 || (b == -1 && a == std::numeric_limits<int64_t>::min())) return std::nullopt;
      return op == BinaryOp::div ? a / b : a % b;
    case BinaryOp::min:
      return std::min(a, b);
    case BinaryOp::max:
      return std::max(a, b);
    case BinaryOp::bit_and:
      return a & b;
    case BinaryOp::bit_or:
      return a | b;
    case BinaryOp::bit_xor:
      return a ^ b;
    case BinaryOp::shl:
      if (b < 0 || b > 62 || a < 0 || a > (std::numeric_limits<int64_t>::max() >> b)) {
        return std::nullopt;
      }
      return a << b;
    case BinaryOp::shr:
      return b < 0 || b > 63 ? std::nullopt : std::optional(a >> b);
    case BinaryOp::lt:
      return a < b;
    case BinaryOp::le:
      return a <= b;
    case BinaryOp::eq:
      return a == b;
    case BinaryOp::ne:
      return a != b;
    case BinaryOp::logical_and:
      return a != 0 && b != 0;
    case BinaryOp::logical_or:
      return a != 0 || b != 0;
  }
  return std::nullopt;
}

std::optional<int64_t> eval_const(const PatNode& p, const Context& ctx) {
  switch (p.kind) {
    case PatKind::constant:
      TM_ASSERT(ctx.bindings.const_bound[p.index]) << "c" << p.index << " is not bound";
      return ctx.bindings.consts[p.index];
    case PatKind::literal:
      return p.value;
    case PatKind::binary: {
      auto a = eval_const(*p.a, ctx);
      if (!a) return std::nullopt;
      // Short-circuit, so that `c0 != 0 && c1 % c0 == 0` never divides by zero.
      if (p.binary_op == BinaryOp::logical_and && *a == 0) return 0;
      if (p.binary_op == BinaryOp::logical_or && *a != 0) return 1;
      auto b = eval_const(*p.b, ctx);
      if (!b) return std::nullopt;
      return eval_binary(p.binary_op, *a, *b);
    }
    case PatKind::unary: {
      auto a = eval_const(*p.a, ctx);
      if (!a) return std::nullopt;
      if (p.unary_op == UnaryOp::logical_not) return *a == 0;
      if (p.unary_op == UnaryOp::bit_not) return ~*a;
      return eval_binary(BinaryOp::sub, 0, *a);
    }
    case PatKind::select: {
      auto cond = eval_const(*p.a, ctx);
      if (!cond) return std::nullopt;
      return eval_const(*cond ? *p.b : *p.c, ctx);
    }
    case PatKind::fold:
      return eval_const(*p.a, ctx);
    case PatKind::nonneg: {
      Expr e = instantiate(*p.a, ctx);
      return e.defined() && ctx.bounds.is_nonneg(e);
    }
    case PatKind::prove: {
      Expr e = instantiate(*p.a, ctx);
      return e.defined() && ctx.bounds.can_prove(e);
    }
    case PatKind::is_int: {
      Expr e = instantiate(*p.a, ctx);
      return e.defined() && e.type().is_scalar() && e.dtype().is_int();
    }
    case PatKind::is_const: {
      Expr e = instantiate(*p.a, ctx);
      return e.defined() && (e.as<ir::IntImmNode>() || e.as<ir::FloatImmNode>());
    }
    case PatKind::no_overflow: {
      Expr e = instantiate(*p.a, ctx);
      return e.defined() && e.type().is_scalar() && e.dtype().is_int() && e.dtype().is_signed() &&
             e.dtype().bits() >= 32;
    }
    case PatKind::any:
      TM_UNREACHABLE() << "an expression wildcard where a constant is needed";
  }
  return std::nullopt;
}

// A constant of the context's dtype, if `value` is representable in it.
Expr constant_of(int64_t value, DType dtype) {
  if (dtype.is_float()) return ir::make_const(dtype, static_cast<double>(value));
  if (wrap_int(value, dtype) != value) return {};
  return ir::int_imm(value, dtype);
}

Expr instantiate(const PatNode& p, const Context& ctx) {
  switch (p.kind) {
    case PatKind::any:
      return ctx.bindings.exprs[p.index];
    case PatKind::constant:
      return constant_of(ctx.bindings.consts[p.index], ctx.dtype);
    case PatKind::literal:
      return constant_of(p.value, ctx.dtype);
    case PatKind::fold: {
      auto v = eval_const(*p.a, ctx);
      return v ? constant_of(*v, ctx.dtype) : Expr();
    }
    case PatKind::binary: {
      Expr a = instantiate(*p.a, ctx), b = instantiate(*p.b, ctx);
      return a.defined() && b.defined() ? ir::binary(p.binary_op, a, b) : Expr();
    }
    case PatKind::unary: {
      Expr a = instantiate(*p.a, ctx);
      return a.defined() ? ir::unary(p.unary_op, a) : Expr();
    }
    case PatKind::select: {
      Expr c = instantiate(*p.a, ctx), t = instantiate(*p.b, ctx), f = instantiate(*p.c, ctx);
      return c.defined() && t.defined() && f.defined() ? ir::select(c, t, f) : Expr();
    }
    default:
      TM_UNREACHABLE() << "a predicate in a replacement";
  }
  return {};
}

// Constants a replacement creates take the dtype of the values the rule computes on: the first
// non-bool expression bound by a wildcard, else the first matched constant's, else the result's.
DType working_dtype(const Bindings& b, const Expr& e) {
  for (const Expr& x : b.exprs) {
    if (x.defined() && x.type().is_scalar() && !x.dtype().is_bool()) return x.dtype();
  }
  if (b.const_dtype) return *b.const_dtype;
  return e.dtype();
}

bool is_constant_pattern(const PatNode& p) {
  return p.kind == PatKind::constant || p.kind == PatKind::literal || p.kind == PatKind::fold;
}

}  // namespace

Pat::Pat(int value) : Pat(static_cast<int64_t>(value)) {}
Pat::Pat(int64_t value) : node_(make(PatNode{.kind = PatKind::literal, .value = value}).node_) {}

Pat any_expr(int index) {
  TM_ASSERT(index >= 0 && index < kMaxWildcards);
  return make(PatNode{.kind = PatKind::any, .index = index});
}

Pat any_const(int index) {
  TM_ASSERT(index >= 0 && index < kMaxWildcards);
  return make(PatNode{.kind = PatKind::constant, .index = index});
}

Pat operator+(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::add, a, b);
}
Pat operator-(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::sub, a, b);
}
Pat operator*(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::mul, a, b);
}
Pat operator/(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::div, a, b);
}
Pat operator%(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::mod, a, b);
}
Pat operator&(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::bit_and, a, b);
}
Pat operator|(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::bit_or, a, b);
}
Pat operator^(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::bit_xor, a, b);
}
Pat operator<<(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::shl, a, b);
}
Pat operator>>(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::shr, a, b);
}
Pat operator<(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::lt, a, b);
}
Pat operator<=(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::le, a, b);
}
Pat operator>(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::lt, b, a);
}
Pat operator>=(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::le, b, a);
}
Pat operator==(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::eq, a, b);
}
Pat operator!=(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::ne, a, b);
}
Pat operator&&(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::logical_and, a, b);
}
Pat operator||(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::logical_or, a, b);
}
Pat operator!(const Pat& a) {
  return make_unary(UnaryOp::logical_not, a);
}
Pat operator-(const Pat& a) {
  return make_unary(UnaryOp::neg, a);
}
Pat operator~(const Pat& a) {
  return make_unary(UnaryOp::bit_not, a);
}
Pat min(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::min, a, b);
}
Pat max(const Pat& a, const Pat& b) {
  return make_binary(BinaryOp::max, a, b);
}
Pat select(const Pat& cond, const Pat& t, const Pat& f) {
  return make(PatNode{.kind = PatKind::select, .a = cond, .b = t, .c = f});
}
Pat fold(const Pat& a) {
  return make_wrapper(PatKind::fold, a);
}
Pat nonneg(const Pat& a) {
  return make_wrapper(PatKind::nonneg, a);
}
Pat prove(const Pat& a) {
  return make_wrapper(PatKind::prove, a);
}
Pat is_int(const Pat& a) {
  return make_wrapper(PatKind::is_int, a);
}
Pat is_const(const Pat& a) {
  return make_wrapper(PatKind::is_const, a);
}
Pat no_overflow(const Pat& a) {
  return make_wrapper(PatKind::no_overflow, a);
}

Expr apply_rules(const RuleTable& rules, const Expr& e, Prover& bounds, const Rule** fired) {
  for (const Rule& r : rules) {
    Bindings b;
    if (!match(*r.lhs, e, b)) continue;
    // A replacement that is a bare constant has the type of the result (`x < x` -> false).
    Context ctx{b, bounds, is_constant_pattern(*r.rhs) ? e.dtype() : working_dtype(b, e)};
    if (r.pred.defined()) {
      auto holds = eval_const(*r.pred, ctx);
      if (!holds || *holds == 0) continue;
    }
    Expr result = instantiate(*r.rhs, ctx);
    if (!result.defined() || !(result.type() == e.type())) continue;
    if (fired) *fired = &r;
    return result;
  }
  return {};
}

}  // namespace taskmap::arith::pattern
