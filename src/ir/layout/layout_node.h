#pragma once
// The node behind a Layout. One struct for every kind; the fields a kind does not use stay
// empty. Layouts are trees: composition, concatenation and swizzle refer to their operands.
#include <cstdint>
#include <memory>
#include <vector>

#include "taskmap/ir/layout.h"

namespace taskmap::ir {

enum class LayoutKind : uint8_t {
  strided,  // offset = Σ idx_i · strides_i (row_major and column_major are strided)
  local,    // spread over workers: size 1, offset 0
  compose,  // lhs = outer, rhs = inner (tiling)
  concat,   // lhs indexes the leading dims, rhs the trailing ones
  swizzle,  // lhs is the base layout
};

struct LayoutNode {
  LayoutKind kind = LayoutKind::strided;
  std::vector<int64_t> shape;
  int64_t size = 1;
  std::vector<int64_t> strides;                // strided
  Layout lhs, rhs;                             // compose, concat, swizzle (lhs only)
  int dim = 0, regards_dim = 0, log_step = 0;  // swizzle
};

Layout make_layout(std::shared_ptr<const LayoutNode> node);

}  // namespace taskmap::ir
