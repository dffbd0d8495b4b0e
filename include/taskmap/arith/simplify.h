#pragma once
// The simplifier: constant folding, canonical forms and index arithmetic, guided by bound
// analysis. It is what makes the loops and indices that lowering produces readable:
// `(i * 16 + j) / 16` becomes `i` and `(w / 8) * 8 + w % 8` becomes `w` once the ranges of the
// variables are known.
//
// Requires: well-formed IR (made by the factories). Signed 32- and 64-bit arithmetic is assumed
// not to overflow (it is undefined in C++, so the compiled code assumes it as well); narrower
// integer types wrap, and rules that need operands not to wrap apply to them only where bounds
// keep the values in range.
// Guarantees:
//   - the result computes the same value as the input wherever the bounds given for variables
//     hold, under C semantics (truncating `/`, `%` with the sign of the dividend); rules that are
//     only valid for non-negative operands are applied only where bound analysis proves it;
//   - constants are folded for every dtype (integers wrap to their width, floats are rounded to
//     their dtype); nothing whose C result could differ is folded (float division by zero,
//     out-of-range float-to-integer casts, integer division by zero, undefined shifts);
//   - float expressions get only exact IEEE identities (x * 1, x / 1, x - 0, -(-x));
//   - integer sums come out as canonical linear forms (terms by decreasing coefficient, the
//     constant last: `i * 64 + j * 4 + k + 3`), commutative operations keep constants on the
//     right, and the operands of && and || are never reordered;
//   - the result is a fixpoint: simplifying it again returns it unchanged; an expression that
//     cannot be simplified is returned as the very same node.
// Set TASKMAP_TRACE_SIMPLIFY=1 to print every rule application to stderr.
#include "taskmap/arith/bound.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::arith {

// Simplifies `e` with the variable bounds in `bounds` (none when null).
ir::Expr simplify(const ir::Expr& e, const BoundAnalyzer* bounds = nullptr);

// Simplifies every expression of `s`, knowing the ranges of the variables the statement binds:
// loop variables of For ([0, extent - 1] for an extent with a known bound), of ForMapping
// ([0, task_shape[d] - 1]) and of LetStmt (the bound of the value), and inside an if branch the
// facts its condition gives about bound variables. Statements also simplify:
//   if with a provably true / false condition  ->  the taken branch (or an empty Seq)
//   for with extent 0 (or provably <= 0)      ->  an empty Seq
//   for with extent 1                          ->  the body with the variable replaced by 0
//   for or if whose body simplifies to nothing ->  an empty Seq
// and sequences are flattened; all other statements are kept. `bounds` gives facts about free
// variables (function params).
ir::Stmt simplify(const ir::Stmt& s, const BoundAnalyzer* bounds = nullptr);

// The body of `f` simplified; `f` itself when nothing changed.
ir::Function simplify(const ir::Function& f, const BoundAnalyzer* bounds = nullptr);

}  // namespace taskmap::arith
