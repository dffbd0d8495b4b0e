#pragma once
// inline_lets: substitutes LetStmt variables whose value is cheap and pure — a constant, a
// variable, or integer arithmetic of those — into their uses, and drops the LetStmt. Values
// that read memory or call functions stay bound, since moving them could change their result.
//   requires: nothing.
//   guarantees: the remaining LetStmts bind loads, calls or non-integer values.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function inline_lets(const ir::Function& f);

}  // namespace taskmap::passes
