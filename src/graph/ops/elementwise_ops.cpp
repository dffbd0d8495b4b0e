// Elementwise operators: unary math, activations, binary arithmetic with broadcasting,
// comparisons, logic, casts. One file per group; this one registers them all.
#include "graph/ops/elementwise_common.h"

namespace taskmap::graph::ops {

void register_elementwise_ops(std::vector<OpDef>& defs) {
  register_math_ops(defs);
  register_activation_ops(defs);
  register_binary_ops(defs);
  register_cast_ops(defs);
}

}  // namespace taskmap::graph::ops
