#pragma once
// unroll_loops: replaces each For marked LoopKind::unroll by `extent` copies of its body, the
// loop variable replaced by 0, 1, ... in turn; each copy binds fresh variables.
//   requires: unroll loops have constant extents (the For factory checks it).
//   guarantees: no For with an unroll hint remains.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function unroll_loops(const ir::Function& f);

}  // namespace taskmap::passes
