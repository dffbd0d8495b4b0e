// Steps of the simplifier on linear forms (see canonical.h).
#include "arith/canonical.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "arith/linear.h"
#include "arith/rules.h"
#include "taskmap/arith/evaluate.h"

namespace taskmap::arith {
namespace {

using ir::BinaryOp;
using ir::Expr;

// A term with its coefficient as an expression, as the add_pair rules expect it. The
// coefficient is wrapped to the dtype, which leaves the value unchanged modulo 2^bits.
Expr term_expr(const LinearTerm& t, ir::DType dtype) {
  return ir::binary(BinaryOp::mul, t.expr, ir::int_imm(wrap_int(t.coeff, dtype), dtype));
}

// The form with the given terms and constant.
LinearForm form_of(ir::DType dtype, std::vector<LinearTerm> terms, int64_t constant) {
  LinearForm f;
  f.dtype = dtype;
  f.terms = std::move(terms);
  f.constant = constant;
  return f;
}

// What a term is a division or remainder of: x for x / 8, x % 8, x / 8 % 4 and x itself. Every
// add_pair rule combines two terms with the same base, one of them a division or remainder, or a
// min with a max: other pairs are not tried.
Expr base_of(Expr term) {
  for (;;) {
    const auto* op = term.as<ir::BinaryNode>();
    if (!op || (op->op != BinaryOp::div && op->op != BinaryOp::mod) || !ir::as_const_int(op->b)) {
      return term;
    }
    term = op->a;
  }
}

bool is_min_max(const Expr& e) {
  const auto* op = e.as<ir::BinaryNode>();
  return op && (op->op == BinaryOp::min || op->op == BinaryOp::max);
}

bool is_div_mod(const Expr& e) {
  const auto* op = e.as<ir::BinaryNode>();
  return op && (op->op == BinaryOp::div || op->op == BinaryOp::mod);
}

bool may_combine(const Expr& a, const Expr& b) {
  if (is_min_max(a) || is_min_max(b)) return is_min_max(a) && is_min_max(b);
  return (is_div_mod(a) || is_div_mod(b)) && same_expr(base_of(a), base_of(b));
}

bool is_additive(const Expr& e) {
  if (const auto* op = e.as<ir::BinaryNode>()) {
    return op->op == BinaryOp::add || op->op == BinaryOp::sub;
  }
  const auto* op = e.as<ir::UnaryNode>();
  return op && op->op == ir::UnaryOp::neg;
}

// floor(a / b) for b > 0.
int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && a < 0);
}

}  // namespace

bool combine_pairs(LinearForm& form, Prover& bounds) {
  bool changed = false;
  // Every rule but the min / max one removes a term; the round limit bounds the others.
  for (int round = 0; round < 64; ++round) {
    bool fired = false;
    for (size_t i = 0; i < form.terms.size() && !fired; ++i) {
      for (size_t j = 0; j < form.terms.size() && !fired; ++j) {
        if (i == j || !may_combine(form.terms[i].expr, form.terms[j].expr)) continue;
        const Expr pair = ir::binary(BinaryOp::add, term_expr(form.terms[i], form.dtype),
                                     term_expr(form.terms[j], form.dtype));
        const Expr combined = pattern::apply_rules(rules::add_pair_rules(), pair, bounds);
        if (!combined.defined()) continue;
        // The combined terms take the place of the first of the pair.
        LinearForm next = form_of(form.dtype, {}, form.constant);
        bool ok = true;
        for (size_t t = 0; t < form.terms.size() && ok; ++t) {
          if (t == std::min(i, j)) ok = add_scaled(next, combined, 1);
          if (t != i && t != j && ok) ok = add_term(next, form.terms[t].expr, form.terms[t].coeff);
        }
        if (!ok) continue;
        form = std::move(next);
        fired = changed = true;
      }
    }
    if (!fired) break;
  }
  return changed;
}

bool is_sum(const Expr& e) {
  if (!e.type().is_scalar() || !e.dtype().is_int() || e.dtype().is_vector()) return false;
  if (is_additive(e)) return true;
  // A product is a sum when it scales one by a constant, or scales a scaled term again.
  const auto* op = e.as<ir::BinaryNode>();
  if (!op || op->op != BinaryOp::mul) return false;
  const Expr& other = ir::as_const_int(op->b) ? op->a : op->b;
  if (!ir::as_const_int(op->a) && !ir::as_const_int(op->b)) return false;
  if (is_additive(other)) return true;
  const auto* inner = other.as<ir::BinaryNode>();
  return inner && inner->op == BinaryOp::mul &&
         (ir::as_const_int(inner->a) || ir::as_const_int(inner->b));
}

Expr canonicalize_sum(const Expr& e, Prover& bounds) {
  if (!is_sum(e)) return {};
  auto form = linear_form(e);
  if (!form) return {};
  combine_pairs(*form, bounds);
  Expr result = linear_expr(*form);
  return same_expr(result, e) ? Expr() : result;
}

Expr canonicalize_comparison(const Expr& e) {
  const auto* op = e.as<ir::BinaryNode>();
  if (!op || !ir::is_comparison(op->op) || !(op->a.dtype() == ir::i64)) return {};
  // a op b  <=>  d op 0 with d = a - b = g * t + k.
  auto d = linear_form(op->a);
  if (!d || !add_scaled(*d, op->b, -1)) return {};
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t g = 0;
  for (const LinearTerm& t : d->terms) {
    if (t.coeff == kMin) return {};  // cannot be negated
    g = std::gcd(g, t.coeff);
  }
  const int64_t k = d->constant;
  if (k == kMin) return {};
  if (g == 0) return ir::bool_imm(binary_value(op->op, Value::of_int(k), Value::of_int(0)).i);
  // t op bound, with t = (d - k) / g.
  int64_t bound = 0;
  switch (op->op) {
    case BinaryOp::lt:  // g t < -k  <=>  t < ceil(-k / g)
      bound = -floor_div(k, g);
      break;
    case BinaryOp::le:  // g t <= -k  <=>  t <= floor(-k / g)
      bound = floor_div(-k, g);
      break;
    default:  // == and != hold or fail outright when g does not divide k
      if (k % g != 0) return ir::bool_imm(op->op == BinaryOp::ne);
      bound = -(k / g);
      break;
  }
  std::vector<LinearTerm> pos, neg;
  for (const LinearTerm& t : d->terms) {
    (t.coeff > 0 ? pos : neg).push_back({t.expr, t.coeff > 0 ? t.coeff / g : -(t.coeff / g)});
  }
  Expr lhs, rhs;
  if (pos.empty()) {  // 0 op n + bound  <=>  -bound op n
    if (bound == kMin) return {};
    lhs = ir::int_imm(-bound);
    rhs = linear_expr(form_of(ir::i64, std::move(neg), 0));
  } else {
    lhs = linear_expr(form_of(ir::i64, std::move(pos), 0));
    rhs = linear_expr(form_of(ir::i64, std::move(neg), bound));
  }
  Expr result = ir::binary(op->op, lhs, rhs);
  return same_expr(result, e) ? Expr() : result;
}

namespace {

// s = d * q + r: the terms d divides leave the division.
Expr split_multiples(const ir::BinaryNode* op, const LinearForm& form, int64_t d, Prover& bounds) {
  const ir::DType dtype = form.dtype;
  const bool is_div = op->op == BinaryOp::div;
  std::vector<LinearTerm> quotient, rest;  // quotient: the terms d divides, already divided
  for (const LinearTerm& t : form.terms) {
    if (t.coeff % d == 0) {
      quotient.push_back({t.expr, t.coeff / d});
    } else {
      rest.push_back(t);
    }
  }
  if (quotient.empty()) return {};
  const int64_t k = form.constant;
  // The answer for s = d * q + r, r given as a form: q + r / d, or r % d.
  auto answer = [&](int64_t q_constant, const LinearForm& r) {
    if (!is_div) return ir::binary(BinaryOp::mod, linear_expr(r), op->b);
    Expr q = linear_expr(form_of(dtype, quotient, q_constant));
    return ir::binary(BinaryOp::add, q, ir::binary(BinaryOp::div, linear_expr(r), op->b));
  };
  if (rest.empty() && k % d == 0) {
    // d divides s exactly: no rounding, whatever the signs.
    return is_div ? linear_expr(form_of(dtype, quotient, k / d)) : ir::int_imm(0, dtype);
  }
  // Otherwise truncation is floor division only where the operands are non-negative.
  if (!bounds.is_nonneg(op->a)) return {};
  LinearForm r = form_of(dtype, rest, k);
  if (bounds.is_nonneg(linear_expr(r))) return answer(0, r);
  const int64_t q = floor_div(k, d);
  if (__builtin_mul_overflow(q, d, &r.constant) ||
      __builtin_sub_overflow(k, r.constant, &r.constant)) {
    return {};
  }
  // r.constant is now k mod d, in [0, d).
  const IntBound rb = bounds.bound(linear_expr(r));
  if (rb.min >= 0) return answer(q, r);
  // A remainder that is negative somewhere but spans less than d: shift it into [0, d), where
  // its quotient is 0.
  if (rb.min == IntBound::kNegInf || rb.max == IntBound::kPosInf) return {};
  const int64_t shift = floor_div(rb.min, d);  // < 0
  int64_t moved = 0, top = 0;
  if (__builtin_mul_overflow(shift, d, &moved) || __builtin_sub_overflow(rb.max, moved, &top) ||
      top >= d) {
    return {};
  }
  r.constant -= moved;
  if (is_div) return linear_expr(form_of(dtype, quotient, q + shift));
  return linear_expr(r);
}

// s = g * t + r with g dividing d and 0 <= r < g: then s / d == t / (d / g) and
// s % d == t % (d / g) * g + r, e.g. (w * 2 + r1) / 8 -> w / 4 for r1 in [0, 1].
Expr split_common_factor(const ir::BinaryNode* op, const LinearForm& form, int64_t d,
                         Prover& bounds) {
  std::vector<int64_t> factors;
  for (const LinearTerm& t : form.terms) {
    const int64_t g = std::gcd(t.coeff, d);
    if (g > 1 && g < d) factors.push_back(g);
  }
  std::sort(factors.rbegin(), factors.rend());
  for (const int64_t g : factors) {
    LinearForm t = form_of(form.dtype, {}, floor_div(form.constant, g));
    LinearForm r = form_of(form.dtype, {}, form.constant - t.constant * g);  // in [0, g)
    for (const LinearTerm& term : form.terms) {
      if (term.coeff % g == 0) {
        t.terms.push_back({term.expr, term.coeff / g});
      } else {
        r.terms.push_back(term);
      }
    }
    const bool exact = r.terms.empty() && r.constant == 0;
    const IntBound rb = bounds.bound(linear_expr(r));
    if (!exact && (rb.min < 0 || rb.max >= g || !bounds.is_nonneg(linear_expr(t)))) continue;
    const Expr divisor = ir::int_imm(d / g, form.dtype);
    if (op->op == BinaryOp::div) return ir::binary(BinaryOp::div, linear_expr(t), divisor);
    const Expr high = ir::binary(BinaryOp::mod, linear_expr(t), divisor);
    return ir::binary(BinaryOp::add, ir::binary(BinaryOp::mul, high, ir::int_imm(g, form.dtype)),
                      linear_expr(r));
  }
  return {};
}

}  // namespace

Expr split_division(const Expr& e, Prover& bounds) {
  const auto* op = e.as<ir::BinaryNode>();
  if (!op || (op->op != BinaryOp::div && op->op != BinaryOp::mod)) return {};
  const int64_t* divisor = ir::as_const_int(op->b);
  if (!divisor || *divisor <= 0) return {};
  auto form = linear_form(op->a);
  if (!form) return {};
  // The algebra below is on mathematical values: a narrow dividend must not wrap.
  const ir::DType dtype = form->dtype;
  const bool may_wrap = dtype.bits() < 32 || !dtype.is_signed();
  if (may_wrap && bounds.bound(op->a) == IntBound::of_dtype(dtype)) return {};
  if (Expr r = split_multiples(op, *form, *divisor, bounds); r.defined()) return r;
  return split_common_factor(op, *form, *divisor, bounds);
}

}  // namespace taskmap::arith
