#pragma once
// Small helpers the CPU templates share: integer tiling arithmetic and unraveling a flat index.
#include <cstdint>
#include <vector>

#include "taskmap/ir/expr.h"

namespace taskmap::schedules {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
inline int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// `flat` (row-major over `extents`) as one index per dim. `flat` must lie in range; the first
// dim is not reduced modulo its extent, so bounds analysis sees it from flat's bound.
std::vector<ir::Expr> unravel(const ir::Expr& flat, const std::vector<int64_t>& extents);

}  // namespace taskmap::schedules
