#pragma once
// simplify_arithmetic: runs the arithmetic simplifier over a function body (constant folding,
// index rules under loop bounds, dead branches and trivial loops).
//   requires: nothing.
//   guarantees: the function computes the same results; indices are in canonical form.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function simplify_arithmetic(const ir::Function& f);

}  // namespace taskmap::passes
