#pragma once
// What the CPU templates share: integer tiling arithmetic and small expression helpers.
#include <cstdint>

#include "taskmap/ir/expr.h"

namespace taskmap::schedules {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
inline int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// A floating-point constant 0 (the false arm of a padding select).
inline bool is_float_zero(const ir::Expr& e) {
  const auto* f = e.as<ir::FloatImmNode>();
  return f != nullptr && f->value == 0.0;
}

// The accumulator `acc` of a sum, max or min updated with term `t`. max and min propagate NaN as
// ir::max and ir::min do (a NaN term fails the comparison and is taken, a NaN accumulator is
// kept), written as selects, which the C compiler vectorizes several times better than the
// generic helper; vector values (already vectorized by hand) take the helper.
ir::Expr combine_reduction(ir::ReduceOp op, const ir::Expr& acc, const ir::Expr& t);

// `value` with every Reduce node replaced by `with`: the epilogue of a template that computes
// the task's one reduction itself.
ir::Expr replace_reductions(const ir::Expr& value, const ir::Expr& with);

}  // namespace taskmap::schedules
