#pragma once
// Integer tiling arithmetic the CPU templates share.
#include <cstdint>

namespace taskmap::schedules {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
inline int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

}  // namespace taskmap::schedules
