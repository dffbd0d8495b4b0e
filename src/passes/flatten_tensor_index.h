#pragma once
// flatten_tensor_index: turns every multi-dimensional tensor access into a 1-D access through
// the tensor's layout, and retypes each tensor variable to a 1-D row-major tensor of
// layout.size() elements (parameters included).
//   requires: no Compute / Reduce nodes.
//   guarantees: every tensor has rank 1 and every Load / Store / Address has one index.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function flatten_tensor_index(const ir::Function& f);

}  // namespace taskmap::passes
