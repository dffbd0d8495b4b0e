#pragma once
// lower_task_mappings: replaces every ForMapping by the loops and index arithmetic of its mapping.
//   requires: nothing (any kernel).
//   guarantees: no ForMapping remains. Repeat dims become For loops carrying their hints,
//   outermost first; task coordinates are bound by LetStmts named after the mapping's loop
//   variables (`let i = w / 8 * 2 + r0`), so the body keeps its names.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function lower_task_mappings(const ir::Function& f);

}  // namespace taskmap::passes
