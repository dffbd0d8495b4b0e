// Linear forms of integer expressions (see linear.h).
#include "arith/linear.h"

#include <algorithm>
#include <limits>

#include "taskmap/arith/evaluate.h"
#include "taskmap/ir/equality.h"

namespace taskmap::arith {
namespace {

using ir::BinaryNode;
using ir::BinaryOp;
using ir::Expr;

bool checked_mul(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
bool checked_add(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

// -kInt64Min does not exist: such a coefficient or constant is added, which is the same modulo
// 2^64.
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

uint64_t magnitude(int64_t v) {
  return v < 0 ? 0 - static_cast<uint64_t>(v) : v;
}

Expr scaled(const Expr& term, int64_t coeff, ir::DType dtype) {
  return coeff == 1 ? term : ir::binary(BinaryOp::mul, term, ir::int_imm(coeff, dtype));
}

}  // namespace

bool same_expr(const Expr& a, const Expr& b) {
  if (a.same_as(b)) return true;
  if (!a.defined() || !b.defined() || a.kind() != b.kind() || !(a.dtype() == b.dtype())) {
    return false;
  }
  // The shapes that make up index arithmetic are compared here; anything else (loads, calls,
  // nodes that bind variables) goes to the general structural comparison.
  switch (a.kind()) {
    case ir::NodeKind::IntImm:
      return a.as<ir::IntImmNode>()->value == b.as<ir::IntImmNode>()->value;
    case ir::NodeKind::Var:
      return false;  // distinct variables (same_as failed)
    case ir::NodeKind::Binary: {
      const auto* x = a.as<BinaryNode>();
      const auto* y = b.as<BinaryNode>();
      return x->op == y->op && same_expr(x->a, y->a) && same_expr(x->b, y->b);
    }
    case ir::NodeKind::Unary: {
      const auto* x = a.as<ir::UnaryNode>();
      const auto* y = b.as<ir::UnaryNode>();
      return x->op == y->op && same_expr(x->a, y->a);
    }
    case ir::NodeKind::Select: {
      const auto* x = a.as<ir::SelectNode>();
      const auto* y = b.as<ir::SelectNode>();
      return same_expr(x->cond, y->cond) && same_expr(x->true_value, y->true_value) &&
             same_expr(x->false_value, y->false_value);
    }
    case ir::NodeKind::Cast:
      return a.type() == b.type() &&
             same_expr(a.as<ir::CastNode>()->value, b.as<ir::CastNode>()->value);
    default:
      return ir::struct_equal(a, b);
  }
}

bool add_term(LinearForm& form, const Expr& term, int64_t coeff) {
  if (coeff == 0) return true;
  for (auto it = form.terms.begin(); it != form.terms.end(); ++it) {
    if (!same_expr(it->expr, term)) continue;
    if (!checked_add(it->coeff, coeff, &it->coeff)) return false;
    if (it->coeff == 0) form.terms.erase(it);
    return true;
  }
  form.terms.push_back({term, coeff});
  return true;
}

bool add_scaled(LinearForm& form, const Expr& e, int64_t scale) {
  if (scale == 0) return true;
  if (const int64_t* value = ir::as_const_int(e)) {
    int64_t product = 0;
    return checked_mul(*value, scale, &product) &&
           checked_add(form.constant, product, &form.constant);
  }
  int64_t negated = 0;
  if (const auto* op = e.as<BinaryNode>()) {
    switch (op->op) {
      case BinaryOp::add:
        return add_scaled(form, op->a, scale) && add_scaled(form, op->b, scale);
      case BinaryOp::sub:
        return add_scaled(form, op->a, scale) && checked_mul(scale, -1, &negated) &&
               add_scaled(form, op->b, negated);
      case BinaryOp::mul: {
        int64_t product = 0;
        if (const int64_t* c = ir::as_const_int(op->b)) {
          return checked_mul(scale, *c, &product) && add_scaled(form, op->a, product);
        }
        if (const int64_t* c = ir::as_const_int(op->a)) {
          return checked_mul(scale, *c, &product) && add_scaled(form, op->b, product);
        }
        break;
      }
      default:
        break;
    }
  } else if (const auto* op = e.as<ir::UnaryNode>(); op && op->op == ir::UnaryOp::neg) {
    return checked_mul(scale, -1, &negated) && add_scaled(form, op->a, negated);
  }
  return add_term(form, e, scale);
}

std::optional<LinearForm> linear_form(const Expr& e) {
  if (!e.defined() || !e.type().is_scalar() || !e.dtype().is_int() || e.dtype().is_vector()) {
    return std::nullopt;
  }
  LinearForm form;
  form.dtype = e.dtype();
  if (!add_scaled(form, e, 1)) return std::nullopt;
  return form;
}

Expr linear_expr(const LinearForm& form) {
  const ir::DType dtype = form.dtype;
  std::vector<LinearTerm> terms;
  for (const LinearTerm& t : form.terms) {
    const int64_t coeff = wrap_int(t.coeff, dtype);
    if (coeff != 0) terms.push_back({t.expr, coeff});
  }
  std::stable_sort(terms.begin(), terms.end(), [](const LinearTerm& x, const LinearTerm& y) {
    if ((x.coeff < 0) != (y.coeff < 0)) return x.coeff > 0;
    return magnitude(x.coeff) > magnitude(y.coeff);
  });
  int64_t constant = wrap_int(form.constant, dtype);

  Expr acc;
  // `8 - i` reads better than `-i + 8`.
  if (constant > 0 && (terms.empty() || terms.front().coeff < 0)) {
    acc = ir::int_imm(constant, dtype);
    constant = 0;
  }
  for (const LinearTerm& t : terms) {
    if (!acc.defined()) {
      acc = t.coeff == -1 ? ir::unary(ir::UnaryOp::neg, t.expr) : scaled(t.expr, t.coeff, dtype);
    } else if (t.coeff > 0 || t.coeff == kInt64Min) {
      acc = ir::binary(BinaryOp::add, acc, scaled(t.expr, t.coeff, dtype));
    } else {
      acc = ir::binary(BinaryOp::sub, acc, scaled(t.expr, -t.coeff, dtype));
    }
  }
  if (!acc.defined()) return ir::int_imm(constant, dtype);
  if (constant > 0 || constant == kInt64Min) {
    return ir::binary(BinaryOp::add, acc, ir::int_imm(constant, dtype));
  }
  if (constant < 0) return ir::binary(BinaryOp::sub, acc, ir::int_imm(-constant, dtype));
  return acc;
}

}  // namespace taskmap::arith
