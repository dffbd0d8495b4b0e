// The expression simplifier (see simplify.h). Bottom-up: a node is simplified after its
// operands, by repeating one step until none applies: fold constants, put constants on the
// right, decide the node from bounds, canonicalize linear forms, then try the node's rule table
// (rules.h). Whatever a step builds is simplified again, so each returned node is a fixpoint.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <unordered_map>

#include "arith/canonical.h"
#include "arith/linear.h"
#include "arith/rules.h"
#include "taskmap/arith/evaluate.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"

namespace taskmap::arith {
namespace {

using ir::BinaryOp;
using ir::DType;
using ir::Expr;

bool trace_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("TASKMAP_TRACE_SIMPLIFY");
    return v && *v && std::string(v) != "0";
  }();
  return enabled;
}

bool is_constant(const Expr& e) {
  return e.as<ir::IntImmNode>() || e.as<ir::FloatImmNode>();
}

bool is_scalar(const Expr& e) {
  return e.type().is_scalar() && !e.dtype().is_vector();
}

bool is_commutative(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::mul:
    case BinaryOp::min:
    case BinaryOp::max:
    case BinaryOp::eq:
    case BinaryOp::ne:
    case BinaryOp::bit_and:
    case BinaryOp::bit_or:
    case BinaryOp::bit_xor:
      return true;
    default:
      return false;  // && and || included: their right operand may be guarded
  }
}

Value value_of(const Expr& e) {
  if (const auto* imm = e.as<ir::IntImmNode>()) return Value::of_int(imm->value, imm->type.dtype());
  const auto* imm = e.as<ir::FloatImmNode>();
  return Value::of_float(imm->value, imm->type.dtype());
}

Expr expr_of(const Value& v) {
  if (v.is_float()) return ir::float_imm(v.f, v.dtype);
  return ir::int_imm(v.i, v.dtype);
}

// Constant folding of a binary node with constant operands; undefined where C could disagree
// with our evaluation or where the operation is undefined.
Expr fold_binary(const ir::BinaryNode* op) {
  const Value a = value_of(op->a), b = value_of(op->b);
  if (a.is_float()) {
    if ((op->op == BinaryOp::div || op->op == BinaryOp::mod) && b.f == 0) return {};
    // Generated code may pick fmin / fmax or std::min / std::max, which differ on NaN and on
    // the sign of zero.
    if ((op->op == BinaryOp::min || op->op == BinaryOp::max) &&
        (std::isnan(a.f) || std::isnan(b.f) || (a.f == 0 && b.f == 0))) {
      return {};
    }
  }
  try {
    return expr_of(binary_value(op->op, a, b));
  } catch (const UserError&) {
    return {};  // division by zero, shift out of range: left for the program to do
  }
}

const pattern::RuleTable* int_rules(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
      return nullptr;  // canonicalize_sum does it all
    case BinaryOp::mul:
      return &rules::mul_rules();
    case BinaryOp::div:
      return &rules::div_rules();
    case BinaryOp::mod:
      return &rules::mod_rules();
    case BinaryOp::min:
      return &rules::min_rules();
    case BinaryOp::max:
      return &rules::max_rules();
    case BinaryOp::lt:
    case BinaryOp::le:
    case BinaryOp::eq:
    case BinaryOp::ne:
      return &rules::compare_rules();
    default:
      return &rules::bitwise_rules();
  }
}

// Every value of `from` is a value of `to` (both integer or bool).
bool holds_all(DType from, DType to) {
  return dtype_min(to) <= dtype_min(from) && dtype_max(from) <= dtype_max(to);
}

class ExprSimplifier : public ir::IRMutator {
 public:
  explicit ExprSimplifier(const BoundAnalyzer& bounds) : bounds_(bounds) {}

  using ir::IRMutator::mutate;
  Expr mutate(const Expr& e) override {
    if (!e.defined()) return e;
    if (auto it = memo_.find(e.get()); it != memo_.end()) return it->second.result;
    Expr result = ir::IRMutator::mutate(e);
    memo_.emplace(e.get(), Memo{e, result});
    if (!result.same_as(e)) memo_.emplace(result.get(), Memo{result, result});
    return result;
  }

 protected:
  Expr mutate_Var(const ir::VarNode*, const Expr& self) override { return settle(self); }
  Expr mutate_Binary(const ir::BinaryNode* op, const Expr& self) override {
    if (Expr sum = mutate_sum(self); sum.defined()) return settle(sum);
    return settle(ir::IRMutator::mutate_Binary(op, self));
  }
  Expr mutate_Unary(const ir::UnaryNode* op, const Expr& self) override {
    if (Expr sum = mutate_sum(self); sum.defined()) return settle(sum);
    return settle(ir::IRMutator::mutate_Unary(op, self));
  }
  Expr mutate_Select(const ir::SelectNode* op, const Expr& self) override {
    return settle(ir::IRMutator::mutate_Select(op, self));
  }
  Expr mutate_Cast(const ir::CastNode* op, const Expr& self) override {
    return settle(ir::IRMutator::mutate_Cast(op, self));
  }

 private:
  // Rewrites nest at most this deep; rules that loop would exceed it.
  static constexpr int kMaxDepth = 500;

  struct Memo {
    Expr key;  // keeps the node alive, so its address is not reused for another node
    Expr result;
  };

  // A sum is simplified as a whole: its terms one by one, then its linear form once, rather than
  // each partial sum of the chain again. Undefined when `e` is no sum (or its form overflows).
  Expr mutate_sum(const Expr& e) {
    if (!is_sum(e)) return {};
    auto form = linear_form(e);
    if (!form) return {};
    LinearForm simplified;
    simplified.dtype = form->dtype;
    simplified.constant = form->constant;
    for (const LinearTerm& t : form->terms) {
      if (!add_scaled(simplified, mutate(t.expr), t.coeff)) return {};
    }
    const bool combined = combine_pairs(simplified, bounds_);
    Expr result = linear_expr(simplified);
    if (same_expr(result, e)) return e;
    if (!combined) return result;
    // Terms that rules combined are new: simplify them (and the sum they are in) too.
    TM_ASSERT(++depth_ < kMaxDepth) << "simplifier does not terminate on " << e;
    result = mutate(result);
    --depth_;
    return result;
  }

  // `e` has simplified operands; applies steps until none applies.
  Expr settle(const Expr& e) {
    const char* why = nullptr;
    Expr next = step(e, &why);
    if (!next.defined()) return e;
    if (trace_enabled()) std::cerr << "simplify: " << why << ": " << e << "  =>  " << next << "\n";
    TM_ASSERT(++depth_ < kMaxDepth) << "simplifier does not terminate on " << e;
    Expr result = mutate(next);
    --depth_;
    return result;
  }

  Expr step(const Expr& e, const char** why) {
    if (!is_scalar(e) || is_constant(e)) return {};
    if (Expr c = decide_by_bounds(e); c.defined()) {
      *why = "bounds";
      return c;
    }
    if (const auto* op = e.as<ir::BinaryNode>()) return step_binary(op, e, why);
    if (const auto* op = e.as<ir::UnaryNode>()) return step_unary(op, e, why);
    if (e.as<ir::SelectNode>()) return apply(rules::select_rules(), e, why);
    if (const auto* op = e.as<ir::CastNode>()) return step_cast(op, why);
    return {};
  }

  // An integer whose bound is one value, or a condition bounds decide, is that constant.
  Expr decide_by_bounds(const Expr& e) {
    const DType dtype = e.dtype();
    if (dtype.is_int()) {
      const IntBound b = bounds_.bound(e);
      return b.is_point() ? ir::int_imm(b.min, dtype) : Expr();
    }
    if (!dtype.is_bool()) return {};
    const auto* bin = e.as<ir::BinaryNode>();
    const auto* un = e.as<ir::UnaryNode>();
    if (!(bin && (ir::is_comparison(bin->op) || bin->op == BinaryOp::logical_and ||
                  bin->op == BinaryOp::logical_or)) &&
        !(un && un->op == ir::UnaryOp::logical_not)) {
      return {};
    }
    if (bounds_.can_prove(e)) return ir::bool_imm(true);
    if (bounds_.can_disprove(e)) return ir::bool_imm(false);
    return {};
  }

  Expr step_binary(const ir::BinaryNode* op, const Expr& e, const char** why) {
    if (is_constant(op->a) && is_constant(op->b)) {
      *why = "fold";
      return fold_binary(op);
    }
    // std::min and std::max are not commutative on NaN and signed zeros.
    const bool float_min_max =
        op->a.dtype().is_float() && (op->op == BinaryOp::min || op->op == BinaryOp::max);
    if (is_commutative(op->op) && is_constant(op->a) && !float_min_max) {
      *why = "constant to the right";
      return ir::binary(op->op, op->b, op->a);
    }
    const DType operands = op->a.dtype();
    if (operands.is_float()) return apply(rules::float_rules(), e, why);
    if (operands.is_bool()) return apply(rules::logical_rules(), e, why);
    Expr r;
    switch (op->op) {
      case BinaryOp::add:
      case BinaryOp::sub:
      case BinaryOp::mul:
        *why = "linear form";
        r = canonicalize_sum(e, bounds_);
        break;
      case BinaryOp::div:
      case BinaryOp::mod:
        *why = "split division";
        r = split_division(e, bounds_);
        break;
      case BinaryOp::lt:
      case BinaryOp::le:
      case BinaryOp::eq:
      case BinaryOp::ne:
        *why = "canonical comparison";
        r = canonicalize_comparison(e);
        break;
      default:
        break;
    }
    if (r.defined()) return r;
    const pattern::RuleTable* table = int_rules(op->op);
    return table ? apply(*table, e, why) : Expr();
  }

  Expr step_unary(const ir::UnaryNode* op, const Expr& e, const char** why) {
    if (is_constant(op->a)) {
      *why = "fold";
      return expr_of(unary_value(op->op, value_of(op->a)));
    }
    switch (op->op) {
      case ir::UnaryOp::neg:
        if (op->a.dtype().is_float()) return apply(rules::float_rules(), e, why);
        *why = "linear form";
        return canonicalize_sum(e, bounds_);
      case ir::UnaryOp::logical_not:
        return apply(rules::logical_rules(), e, why);
      case ir::UnaryOp::bit_not:
        return apply(rules::bitwise_rules(), e, why);
    }
    return {};
  }

  Expr step_cast(const ir::CastNode* op, const char** why) {
    const Expr& value = op->value;
    const DType to = op->type.dtype();
    if (!is_scalar(value)) return {};
    if (is_constant(value)) {
      *why = "fold";
      try {
        return expr_of(cast_value(to, value_of(value)));
      } catch (const UserError&) {
        return {};  // out-of-range float to integer: undefined in C, left alone
      }
    }
    // A cast through a type that holds every value of the source is the direct cast.
    const auto* inner = value.as<ir::CastNode>();
    if (inner && is_scalar(inner->value) && !inner->value.dtype().is_float() &&
        !value.dtype().is_float() && !to.is_float() &&
        holds_all(inner->value.dtype(), value.dtype())) {
      *why = "cast of a widening cast";
      return ir::cast(op->type, inner->value);
    }
    return {};
  }

  Expr apply(const pattern::RuleTable& table, const Expr& e, const char** why) {
    const pattern::Rule* fired = nullptr;
    Expr r = pattern::apply_rules(table, e, bounds_, &fired);
    if (fired) {
      why_storage_ = std::string(fired->file) + ":" + std::to_string(fired->line);
      // Keep only the file name: the trace is for reading, not for tools.
      if (auto slash = why_storage_.rfind('/'); slash != std::string::npos) {
        why_storage_ = why_storage_.substr(slash + 1);
      }
      *why = why_storage_.c_str();
    }
    return r;
  }

  Prover bounds_;
  std::unordered_map<const ir::ExprNode*, Memo> memo_;
  int depth_ = 0;
  std::string why_storage_;
};

}  // namespace

Expr simplify(const Expr& e, const BoundAnalyzer* bounds) {
  static const BoundAnalyzer kNoBounds;
  ExprSimplifier simplifier(bounds ? *bounds : kNoBounds);
  return simplifier.mutate(e);
}

}  // namespace taskmap::arith
