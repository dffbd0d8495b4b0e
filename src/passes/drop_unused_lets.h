#pragma once
// drop_unused_lets: removes LetStmts whose variable nothing reads (a task coordinate that a
// template's body ignores once flattened layouts have dropped it), unless computing the value
// calls something. Such bindings cost nothing after an optimizing compiler, but NVRTC warns
// about each (#177-D), and generated CUDA must compile without warnings.
//   requires: nothing.
//   guarantees: every remaining LetStmt's variable is read, or its value has a call.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function drop_unused_lets(const ir::Function& f);

}  // namespace taskmap::passes
