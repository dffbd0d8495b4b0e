// Bound analysis (see bound.h): interval arithmetic with saturating ends, sums through their
// linear forms, comparisons decided on the bound of the difference of their sides.
#include "taskmap/arith/bound.h"

#include <algorithm>

#include "arith/linear.h"
#include "taskmap/arith/evaluate.h"
#include "taskmap/error.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::arith {
namespace {

using ir::BinaryOp;
using ir::Expr;

constexpr int64_t kNegInf = IntBound::kNegInf;
constexpr int64_t kPosInf = IntBound::kPosInf;

bool is_inf(int64_t v) {
  return v == kNegInf || v == kPosInf;
}
int sign(int64_t v) {
  return (v > 0) - (v < 0);
}
int64_t inf_with_sign(int s) {
  return s < 0 ? kNegInf : kPosInf;
}

// ---- saturating arithmetic on interval ends -----------------------------------------------

int64_t saturate(__int128 v) {
  if (v <= kNegInf) return kNegInf;
  if (v >= kPosInf) return kPosInf;
  return static_cast<int64_t>(v);
}

int64_t sat_add(int64_t a, int64_t b) {
  if (is_inf(a)) return a;
  if (is_inf(b)) return b;
  return saturate(static_cast<__int128>(a) + b);
}

int64_t sat_neg(int64_t a) {
  if (a == kNegInf) return kPosInf;
  if (a == kPosInf) return kNegInf;
  return -a;
}

int64_t sat_mul(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  if (is_inf(a) || is_inf(b)) return inf_with_sign(sign(a) * sign(b));
  return saturate(static_cast<__int128>(a) * b);
}

// Truncating division; b != 0. An unbounded end divided by a finite one stays unbounded, a
// finite one divided by an unbounded one tends to 0.
int64_t sat_div(int64_t a, int64_t b) {
  if (is_inf(a)) return inf_with_sign(sign(a) * sign(b));
  if (is_inf(b)) return 0;
  return a / b;
}

// ---- interval operations ------------------------------------------------------------------

IntBound add(const IntBound& a, const IntBound& b) {
  return {sat_add(a.min, b.min), sat_add(a.max, b.max)};
}

IntBound negate(const IntBound& a) {
  return {sat_neg(a.max), sat_neg(a.min)};
}

IntBound sub(const IntBound& a, const IntBound& b) {
  return add(a, negate(b));
}

IntBound corners(int64_t (*fn)(int64_t, int64_t), const IntBound& a, int64_t b0, int64_t b1) {
  const int64_t v[4] = {fn(a.min, b0), fn(a.min, b1), fn(a.max, b0), fn(a.max, b1)};
  return {*std::min_element(v, v + 4), *std::max_element(v, v + 4)};
}

IntBound mul(const IntBound& a, const IntBound& b) {
  return corners(sat_mul, a, b.min, b.max);
}

// The divisor ranges with zero removed: [b.min, -1] and [1, b.max] where they are not empty.
// Truncating division is monotone in each operand on either piece, so corners bound it.
IntBound div(const IntBound& a, const IntBound& b) {
  std::optional<IntBound> r;
  if (b.min <= -1) r = corners(sat_div, a, b.min, std::min<int64_t>(b.max, -1));
  if (b.max >= 1) {
    const IntBound pos = corners(sat_div, a, std::max<int64_t>(b.min, 1), b.max);
    r = r ? union_of(*r, pos) : pos;
  }
  return r ? *r : IntBound::everything();
}

// C's remainder has the sign of the dividend and a magnitude below the divisor's.
IntBound mod(const IntBound& a, const IntBound& b) {
  if (b.min == 0 && b.max == 0) return IntBound::everything();
  const int64_t min_divisor = b.min > 0 ? b.min : b.max < 0 ? sat_neg(b.max) : 1;
  if (a.min > -min_divisor && a.max < min_divisor) return a;  // x % b == x
  const int64_t max_divisor = std::max(b.max, sat_neg(b.min));
  const int64_t limit = is_inf(max_divisor) ? kPosInf : max_divisor - 1;
  return {a.min >= 0 ? 0 : std::max(a.min, sat_neg(limit)),
          a.max <= 0 ? 0 : std::min(a.max, limit)};
}

IntBound shift_left(const IntBound& a, const IntBound& b) {
  if (b.min < 0 || b.max > 62) return IntBound::everything();
  return mul(a, {int64_t{1} << b.min, int64_t{1} << b.max});
}

// Arithmetic right shift is floor division by 2^b: non-decreasing in a; for a fixed a it moves
// toward 0 (a >= 0) or toward -1 (a < 0) as b grows.
IntBound shift_right(const IntBound& a, const IntBound& b) {
  if (b.min < 0 || b.max > 63) return IntBound::everything();
  auto shr = [](int64_t v, int64_t s) { return is_inf(v) ? v : v >> s; };
  return {shr(a.min, a.min >= 0 ? b.max : b.min), shr(a.max, a.max >= 0 ? b.min : b.max)};
}

// The smallest 2^k - 1 >= v for v >= 0.
int64_t all_ones_above(int64_t v) {
  if (is_inf(v)) return kPosInf;
  int64_t r = 0;
  while (r < v) r = r * 2 + 1;
  return r;
}

IntBound bitwise(BinaryOp op, const IntBound& a, const IntBound& b) {
  const bool a_nonneg = a.min >= 0;
  const bool b_nonneg = b.min >= 0;
  if (op == BinaryOp::bit_and) {
    // Masking with a non-negative value clears the sign and cannot exceed it.
    if (a_nonneg && b_nonneg) return {0, std::min(a.max, b.max)};
    if (a_nonneg) return {0, a.max};
    if (b_nonneg) return {0, b.max};
    return IntBound::everything();
  }
  if (!a_nonneg || !b_nonneg) return IntBound::everything();
  const int64_t ones = all_ones_above(std::max(a.max, b.max));
  if (op == BinaryOp::bit_or) return {std::max(a.min, b.min), ones};
  return {0, ones};  // xor
}

// A result that may leave a narrow dtype's range wraps, so it could be anything in the dtype.
IntBound fit(const IntBound& b, ir::DType dtype) {
  if (dtype.is_float()) return b;
  const IntBound all = IntBound::of_dtype(dtype);
  return b.min < all.min || b.max > all.max ? all : b;
}

bool is_narrow(ir::DType dtype) {
  return dtype.bits() < 64 || !dtype.is_signed();
}

}  // namespace

IntBound IntBound::of_dtype(ir::DType dtype) {
  if (dtype.is_float()) return everything();
  return {dtype_min(dtype), dtype_max(dtype)};
}

std::string IntBound::str() const {
  auto end = [](int64_t v) {
    return v == kNegInf   ? std::string("-inf")
           : v == kPosInf ? std::string("inf")
                          : std::to_string(v);
  };
  return "[" + end(min) + ", " + end(max) + "]";
}

IntBound union_of(const IntBound& a, const IntBound& b) {
  return {std::min(a.min, b.min), std::max(a.max, b.max)};
}

void BoundAnalyzer::bind(const ir::Var& v, IntBound b) {
  TM_ASSERT(b.min <= b.max) << "empty bound " << b.str() << " for " << v.name();
  vars_[v] = b;
}

void BoundAnalyzer::bind_range(const ir::Var& v, int64_t extent) {
  TM_ASSERT(extent >= 1) << "bind_range(" << v.name() << ", " << extent << "): empty range";
  bind(v, {0, extent - 1});
}

void BoundAnalyzer::unbind(const ir::Var& v) {
  vars_.erase(v);
}

std::optional<IntBound> BoundAnalyzer::binding(const ir::Var& v) const {
  auto it = vars_.find(v);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

// One query: bounds of the sub-expressions met on the way are remembered (for the query, or in
// the caller's BoundMemo), so an expression is analyzed in time linear in its size even where
// conditions and selects nest (each would otherwise analyze its operands several times over,
// exponentially in the depth).
struct BoundAnalyzer::Run {
  const BoundAnalyzer& analyzer;
  // Each entry keeps its node alive, so that no other node reuses the address.
  std::unordered_map<const ir::ExprNode*, std::pair<Expr, IntBound>>& memo;

  IntBound bound(const Expr& e) {
    if (!e.defined() || !e.type().is_scalar() || e.dtype().is_vector() || e.dtype().is_float()) {
      return IntBound::everything();
    }
    if (auto it = memo.find(e.get()); it != memo.end()) return it->second.second;
    const IntBound b = e.dtype().is_bool() ? bool_bound(e) : fit(int_bound(e), e.dtype());
    memo.emplace(e.get(), std::make_pair(e, b));
    return b;
  }

  IntBound var_bound(const Expr& e) {
    auto it = analyzer.vars_.find(e);
    return it == analyzer.vars_.end() ? IntBound::of_dtype(e.dtype()) : it->second;
  }

  IntBound int_bound(const Expr& e) {
    switch (e.kind()) {
      case ir::NodeKind::IntImm:
        return IntBound::point(e.as<ir::IntImmNode>()->value);
      case ir::NodeKind::Var:
        return var_bound(e);
      case ir::NodeKind::Binary:
        return binary_bound(e.as<ir::BinaryNode>());
      case ir::NodeKind::Unary: {
        const auto* op = e.as<ir::UnaryNode>();
        const IntBound a = bound(op->a);
        if (op->op == ir::UnaryOp::neg) return negate(a);
        return sub(negate(a), IntBound::point(1));  // ~x == -x - 1
      }
      case ir::NodeKind::Select:
        return select_bound(e.as<ir::SelectNode>());
      case ir::NodeKind::Cast: {
        const Expr& value = e.as<ir::CastNode>()->value;
        if (value.dtype().is_float()) return IntBound::of_dtype(e.dtype());
        return bound(value);
      }
      case ir::NodeKind::Call:
        return call_bound(e.as<ir::CallNode>());
      default:
        return IntBound::of_dtype(e.dtype());
    }
  }

  // CUDA's thread and block indices and sizes, within the limits of every architecture: at
  // most 1024 threads per block, 2^31 - 1 blocks along x.
  // (Primitives are compared by identity: this runs for every call the simplifier meets.)
  IntBound call_bound(const ir::CallNode* op) {
    static const ir::Primitive* const thread_idx = ir::find_primitive("thread_idx_x");
    static const ir::Primitive* const block_dim = ir::find_primitive("block_dim_x");
    static const ir::Primitive* const block_idx = ir::find_primitive("block_idx_x");
    static const ir::Primitive* const grid_dim = ir::find_primitive("grid_dim_x");
    constexpr int64_t kMaxBlocks = (int64_t{1} << 31) - 1;
    if (op->callee == thread_idx) return {0, 1023};
    if (op->callee == block_dim) return {1, 1024};
    if (op->callee == block_idx) return {0, kMaxBlocks - 1};
    if (op->callee == grid_dim) return {1, kMaxBlocks};
    return IntBound::of_dtype(op->type.dtype());
  }

  IntBound select_bound(const ir::SelectNode* op) {
    const IntBound cond = bound(op->cond);
    if (cond.min >= 1) return bound(op->true_value);
    if (cond.max <= 0) return bound(op->false_value);
    return union_of(bound(op->true_value), bound(op->false_value));
  }

  // Bools are bounded within [0, 1]: [1, 1] is proven, [0, 0] disproven.
  IntBound bool_bound(const Expr& e) {
    if (const int64_t* value = ir::as_const_int(e)) return IntBound::point(*value != 0);
    if (const auto* op = e.as<ir::BinaryNode>()) {
      if (op->op == BinaryOp::logical_and || op->op == BinaryOp::logical_or) {
        const IntBound a = bound(op->a), b = bound(op->b);
        if (op->op == BinaryOp::logical_and)
          return {std::min(a.min, b.min), std::min(a.max, b.max)};
        return {std::max(a.min, b.min), std::max(a.max, b.max)};
      }
      if (ir::is_comparison(op->op)) return comparison_bound(op);
      return {0, 1};  // & | ^ on bools
    }
    if (const auto* op = e.as<ir::UnaryNode>(); op && op->op == ir::UnaryOp::logical_not) {
      const IntBound a = bound(op->a);
      return {1 - a.max, 1 - a.min};
    }
    if (const auto* op = e.as<ir::SelectNode>()) return select_bound(op);
    if (e.as<ir::VarNode>()) return var_bound(e);
    if (const auto* op = e.as<ir::CastNode>(); op && !op->value.dtype().is_float()) {
      const IntBound b = bound(op->value);
      if (b.min > 0 || b.max < 0) return IntBound::point(1);
      if (b == IntBound::point(0)) return b;
    }
    return {0, 1};
  }

  IntBound comparison_bound(const ir::BinaryNode* op) {
    if (op->a.dtype().is_float()) return {0, 1};
    const IntBound d = difference(op->a, op->b);
    bool yes = false, no = false;
    switch (op->op) {
      case BinaryOp::lt:
        yes = d.max < 0, no = d.min >= 0;
        break;
      case BinaryOp::le:
        yes = d.max <= 0, no = d.min > 0;
        break;
      case BinaryOp::eq:
        yes = d == IntBound::point(0), no = d.max < 0 || d.min > 0;
        break;
      default:
        yes = d.max < 0 || d.min > 0, no = d == IntBound::point(0);
        break;
    }
    return yes ? IntBound::point(1) : no ? IntBound::point(0) : IntBound{0, 1};
  }

  IntBound form_bound(const LinearForm& form) {
    IntBound r = IntBound::point(form.constant);
    for (const LinearTerm& t : form.terms) r = add(r, mul(bound(t.expr), IntBound::point(t.coeff)));
    return r;
  }

  // Bound of a - b with the terms common to both sides cancelled. Cancelling is exact on
  // mathematical values; a narrow operand that may have wrapped is not its mathematical value,
  // so those are compared on their own bounds.
  IntBound difference(const Expr& a, const Expr& b) {
    const ir::DType dtype = a.dtype();
    if (dtype.is_int()) {
      const IntBound all = IntBound::of_dtype(dtype);
      if (!is_narrow(dtype) || (!(bound(a) == all) && !(bound(b) == all))) {
        if (auto form = linear_form(a); form && add_scaled(*form, b, -1)) return form_bound(*form);
      }
    }
    return sub(bound(a), bound(b));
  }

  IntBound binary_bound(const ir::BinaryNode* op) {
    if (op->op == BinaryOp::add || op->op == BinaryOp::sub) {
      // Through the linear form, so that terms common to both sides cancel.
      if (auto form = linear_form(Expr(op->a))) {
        if (add_scaled(*form, op->b, op->op == BinaryOp::add ? 1 : -1)) return form_bound(*form);
      }
    }
    const IntBound a = bound(op->a);
    const IntBound b = bound(op->b);
    switch (op->op) {
      case BinaryOp::add:
        return add(a, b);
      case BinaryOp::sub:
        return sub(a, b);
      case BinaryOp::mul:
        return mul(a, b);
      case BinaryOp::div:
        return div(a, b);
      case BinaryOp::mod:
        return mod(a, b);
      case BinaryOp::min:
        return {std::min(a.min, b.min), std::min(a.max, b.max)};
      case BinaryOp::max:
        return {std::max(a.min, b.min), std::max(a.max, b.max)};
      case BinaryOp::shl:
        return shift_left(a, b);
      case BinaryOp::shr:
        return shift_right(a, b);
      case BinaryOp::bit_and:
      case BinaryOp::bit_or:
      case BinaryOp::bit_xor:
        return bitwise(op->op, a, b);
      default:
        return IntBound::of_dtype(op->type.dtype());
    }
  }
};

IntBound BoundAnalyzer::bound(const Expr& e, BoundMemo* memo) const {
  if (memo) return Run{*this, memo->entries_}.bound(e);
  BoundMemo local;
  return Run{*this, local.entries_}.bound(e);
}

bool BoundAnalyzer::can_prove(const Expr& cond, BoundMemo* memo) const {
  return cond.defined() && cond.dtype().is_bool() && bound(cond, memo).min >= 1;
}

bool BoundAnalyzer::can_disprove(const Expr& cond, BoundMemo* memo) const {
  return cond.defined() && cond.dtype().is_bool() && bound(cond, memo).max <= 0;
}

}  // namespace taskmap::arith
