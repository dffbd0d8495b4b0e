#pragma once
// The simplifier steps that work on whole linear forms rather than on one node: they see all the
// terms of a sum at once, which a table of local rules could only do with a rule per arrangement.
// Each returns the rewritten expression, or an undefined Expr when it has nothing to change.
//
// Requires: the operands of `e` are already simplified.
// Guarantees: the result equals `e` wherever `bounds` hold (C semantics, no 64-bit overflow), and
// applying the same step to a result it produced changes nothing.
#include "arith/linear.h"
#include "arith/prover.h"
#include "taskmap/ir/expr.h"

namespace taskmap::arith {

// An integer sum, difference, negation, product of a sum with a constant, or product of a
// product with a constant by a constant: what canonicalize_sum works on.
bool is_sum(const ir::Expr& e);

// Replaces pairs of terms of `form` by what an add_pair rule makes of them (see below), until no
// rule applies. Returns whether it changed anything; new terms are not simplified.
bool combine_pairs(LinearForm& form, Prover& bounds);

// An integer sum, difference, negation, or product of a sum with a constant, rebuilt as its
// canonical linear form (linear.h), after combining pairs of terms with the add_pair rules
// (`(w / 8) * 8 + w % 8` -> `w`, wherever the two terms sit in the sum).
ir::Expr canonicalize_sum(const ir::Expr& e, Prover& bounds);

// A comparison of signed 64-bit integers with the terms of both sides gathered: positive terms
// on the left, the others and the constant on the right, common factors divided out:
// `x + 3 < y + 5` -> `x < y + 2`, `i * 4 < 32` -> `i < 8`, `x * 2 == 3` -> false.
ir::Expr canonicalize_comparison(const ir::Expr& e);

// `s / d` or `s % d` for an integer sum s and a constant d > 0, split along the linear form of s:
//   the terms d divides leave the division: `(i * 16 + j) / 16` -> `i + j / 16`,
//   `(i * 16 + j) % 16` -> `j % 16`;
//   a part below a common factor g of d and the other terms drops out: `(w * 2 + r) / 8` ->
//   `w / 4` and `(w * 2 + r) % 8` -> `w % 4 * 2 + r` for r in [0, 1].
// Exact splits hold for any sign; the others only where bounds prove the operands non-negative,
// since C's division truncates.
ir::Expr split_division(const ir::Expr& e, Prover& bounds);

}  // namespace taskmap::arith
