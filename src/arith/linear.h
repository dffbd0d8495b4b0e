#pragma once
// Integer expressions seen as linear combinations: c1 * t1 + ... + cn * tn + k, where the terms
// t are the maximal sub-expressions that are not sums, differences, negations or products with a
// constant. Sums and differences are flattened and products with constants are distributed, so
// `(i * 16 + j) * 4 - i * 64 + 3` has the single term j with coefficient 4 and the constant 3.
//
// These are ring identities: they hold under two's complement wrapping at any width, which is
// why the simplifier may rebuild any integer sum from its linear form.
//
// Requires: integer (non-bool, scalar) expressions.
// Guarantees: terms are pairwise distinct (structurally) with non-zero coefficients; a form
// whose coefficients or constant would overflow int64 is refused (nullopt / false).
#include <cstdint>
#include <optional>
#include <vector>

#include "taskmap/ir/expr.h"

namespace taskmap::arith {

struct LinearTerm {
  ir::Expr expr;
  int64_t coeff;
};

struct LinearForm {
  ir::DType dtype = ir::index_dtype;
  std::vector<LinearTerm> terms;  // in order of first appearance
  int64_t constant = 0;
};

// Structural equality of expressions with a pointer fast path (what "the same term" means).
bool same_expr(const ir::Expr& a, const ir::Expr& b);

// The form of `e`; nullopt when e is not an integer expression or the form overflows.
std::optional<LinearForm> linear_form(const ir::Expr& e);
// Adds `scale * e` to `form`, merging equal terms and dropping terms that cancel. Returns false
// (leaving `form` partly updated) on overflow.
bool add_scaled(LinearForm& form, const ir::Expr& e, int64_t scale);
bool add_term(LinearForm& form, const ir::Expr& term, int64_t coeff);

// The canonical expression of a form: terms with positive coefficients first, then negative
// ones, each group by decreasing magnitude of the coefficient (ties keep their order), the
// constant last, as a left-leaning chain of + and -: `i * 64 + j * 4 + k - 1`. A form without
// positive terms and with a positive constant starts with the constant: `8 - i`. Coefficients and
// the constant are wrapped to the form's dtype. Rebuilding the form of the result gives the
// result again.
ir::Expr linear_expr(const LinearForm& form);

}  // namespace taskmap::arith
