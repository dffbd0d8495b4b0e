#pragma once
// Structural equality and hashing. Two trees are equal when they have the same shape, the same
// constants, types, operators, hints and mappings, and their variables correspond: a variable
// bound inside the tree (Let, For, ForMapping, Declare, Compute / Reduce axes, function params)
// matches the variable bound at the same place in the other tree; free variables must be the
// same variable. Hashing is consistent with equality (bound variables hash by binding order).
#include <cstddef>

#include "taskmap/ir/expr.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::ir {

bool struct_equal(const Expr& a, const Expr& b);
bool struct_equal(const Stmt& a, const Stmt& b);
bool struct_equal(const Function& a, const Function& b);

size_t struct_hash(const Expr& e);
size_t struct_hash(const Stmt& s);
size_t struct_hash(const Function& f);

}  // namespace taskmap::ir
