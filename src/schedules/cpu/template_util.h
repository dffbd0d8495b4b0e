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

// `value` with every Reduce node replaced by `with`: the epilogue of a template that computes
// the task's one reduction itself.
ir::Expr replace_reductions(const ir::Expr& value, const ir::Expr& with);

}  // namespace taskmap::schedules
