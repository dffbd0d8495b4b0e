#pragma once
// A small pattern language for the simplifier's rewrite rules, so that each rule is one line:
//
//   rule(x * c0 / c1, x * fold(c0 / c1), c1 != 0 && c0 % c1 == 0)
//
// A Rule is (left-hand pattern, replacement, predicate). Patterns are ordinary C++ expressions
// over the wildcards below, built into small trees once, when a rule table is first used, and
// interpreted by match / instantiate:
//   x, y, z, w, u   match any expression; a wildcard used twice must match equal expressions
//   c0 .. c4        match an integer constant (IntImm)
//   3, 0, -1        match that constant (IntImm, or a FloatImm of that exact value: 0 is +0.0);
//                   true_c and false_c are 1 and 0, for bool rules
//   fold(p)         in a replacement: the constant p computes from the bound constants
//   nonneg(p)       in a predicate: bound analysis proves p >= 0
//   prove(p)        in a predicate: bound analysis proves the bool expression p
//   is_int(p)       in a predicate: p is an integer expression (not bool, not float)
//   is_const(p)     in a predicate: p is a constant
//   no_overflow(p)  in a predicate: p's type is a signed integer of 32 or 64 bits, whose overflow
//                   C++ leaves undefined, so rules may assume it does not happen; narrower types
//                   wrap, and rules whose operands could wrap must not apply to them
// Predicates combine constants with the C operators; arithmetic in predicates and folds is
// checked: an overflow or a division by zero makes the rule not apply.
//
// Requires: replacements use only wildcards bound by the left-hand side; a rule's replacement
// equals its left-hand side for every value of the wildcards where the predicate holds, with C
// semantics (truncating division) and integers wrapping at their width; a rule that needs values
// not to wrap says no_overflow(...).
// Guarantees: apply_rules returns the instantiated replacement of the first rule that matches,
// whose predicate holds and whose replacement has the type of the input; else an undefined Expr.
#include <cstdint>
#include <memory>
#include <vector>

#include "arith/prover.h"
#include "taskmap/ir/expr.h"

namespace taskmap::arith::pattern {

enum class PatKind : uint8_t {
  any,          // index: which wildcard
  constant,     // index: which constant wildcard
  literal,      // value
  binary,       // binary_op, a, b
  unary,        // unary_op, a
  select,       // a, b, c
  fold,         // a
  nonneg,       // a
  prove,        // a
  is_int,       // a
  no_overflow,  // a
  is_const,     // a
};

struct PatNode;

class Pat {
 public:
  Pat() = default;
  Pat(int value);      // NOLINT(google-explicit-constructor): literals read as in C
  Pat(int64_t value);  // NOLINT(google-explicit-constructor)
  explicit Pat(std::shared_ptr<const PatNode> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const PatNode& operator*() const { return *node_; }
  const PatNode* operator->() const { return node_.get(); }

 private:
  std::shared_ptr<const PatNode> node_;
};

struct PatNode {
  PatKind kind = PatKind::any;
  int index = 0;
  int64_t value = 0;
  ir::BinaryOp binary_op = ir::BinaryOp::add;
  ir::UnaryOp unary_op = ir::UnaryOp::neg;
  Pat a{}, b{}, c{};
};

inline constexpr int kMaxWildcards = 5;
Pat any_expr(int index);
Pat any_const(int index);

Pat operator+(const Pat& a, const Pat& b);
Pat operator-(const Pat& a, const Pat& b);
Pat operator*(const Pat& a, const Pat& b);
Pat operator/(const Pat& a, const Pat& b);
Pat operator%(const Pat& a, const Pat& b);
Pat operator&(const Pat& a, const Pat& b);
Pat operator|(const Pat& a, const Pat& b);
Pat operator^(const Pat& a, const Pat& b);
Pat operator<<(const Pat& a, const Pat& b);
Pat operator>>(const Pat& a, const Pat& b);
Pat operator<(const Pat& a, const Pat& b);
Pat operator<=(const Pat& a, const Pat& b);
Pat operator>(const Pat& a, const Pat& b);   // b < a, as the IR spells it
Pat operator>=(const Pat& a, const Pat& b);  // b <= a
Pat operator==(const Pat& a, const Pat& b);
Pat operator!=(const Pat& a, const Pat& b);
Pat operator&&(const Pat& a, const Pat& b);
Pat operator||(const Pat& a, const Pat& b);
Pat operator!(const Pat& a);
Pat operator-(const Pat& a);
Pat operator~(const Pat& a);
Pat min(const Pat& a, const Pat& b);
Pat max(const Pat& a, const Pat& b);
Pat select(const Pat& cond, const Pat& t, const Pat& f);
Pat fold(const Pat& a);
Pat nonneg(const Pat& a);
Pat prove(const Pat& a);
Pat is_int(const Pat& a);
Pat no_overflow(const Pat& a);
Pat is_const(const Pat& a);

struct Rule {
  Pat lhs, rhs, pred;
  const char* file;  // where the rule is written, for traces
  int line;
};

// __builtin_FILE / __builtin_LINE (GCC and Clang) give the caller's position, like
// std::source_location, which clang-tidy cannot parse with this standard library.
inline Rule rule(Pat lhs, Pat rhs, Pat pred = {}, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  return Rule{std::move(lhs), std::move(rhs), std::move(pred), file, line};
}

using RuleTable = std::vector<Rule>;

// See the header comment. `fired`, when given, is set to the rule that applied.
ir::Expr apply_rules(const RuleTable& rules, const ir::Expr& e, Prover& bounds,
                     const Rule** fired = nullptr);

// The wildcards, one set per translation unit that writes rules.
namespace wildcards {
static const Pat x = any_expr(0), y = any_expr(1), z = any_expr(2), w = any_expr(3),
                 u = any_expr(4);
static const Pat true_c = Pat(1), false_c = Pat(0);  // bool constants
static const Pat c0 = any_const(0), c1 = any_const(1), c2 = any_const(2), c3 = any_const(3),
                 c4 = any_const(4);
}  // namespace wildcards

}  // namespace taskmap::arith::pattern
