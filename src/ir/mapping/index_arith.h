#pragma once
// Index arithmetic for lowered task mappings and layout offsets. Each helper folds constants and
// drops trivial operations (`x * 1`, `x + 0`, `x / 1`, `x % 1`) before building a node, so the
// generated index expressions read like hand-written ones even before the simplifier runs.
// Operands are non-negative index values, so C-style `/` and `%` fold like floor division.
#include <cstdint>
#include <optional>

#include "taskmap/ir/expr.h"

namespace taskmap::ir {

Expr fold_add(const Expr& a, const Expr& b);
Expr fold_mul(const Expr& a, const Expr& b);
Expr fold_div(const Expr& a, const Expr& b);
Expr fold_mod(const Expr& a, const Expr& b);

// a * b, or nullopt when the product overflows int64.
std::optional<int64_t> checked_mul(int64_t a, int64_t b);
// a + b, or nullopt when the sum overflows int64.
std::optional<int64_t> checked_add(int64_t a, int64_t b);

}  // namespace taskmap::ir
