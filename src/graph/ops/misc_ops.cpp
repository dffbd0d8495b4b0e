#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {

void register_misc_ops(std::vector<OpDef>& defs) {
  (void)defs;
}

}  // namespace taskmap::graph::ops
