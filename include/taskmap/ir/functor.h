#pragma once
// Traversal of the IR. Both classes dispatch on the node-kind list (node_kinds.h).
//
// IRVisitor visits every child expression and statement in order (including the worker of a
// ForMapping, the value of a Compute and of a Reduce). Override visit_<Kind> and call the base
// to keep descending.
//
// IRMutator rebuilds a node only when one of its children changed and otherwise returns the very
// same node, so `mutate(x).same_as(x)` tells a pass that nothing happened. Binding occurrences of
// variables (Declare, LetStmt, For, ForMapping, Compute axes, Reduce axes) are mutated through
// mutate_binding(), which keeps the old variable unless the override returns another Var.
#include <functional>
#include <utility>
#include <vector>

#include "taskmap/ir/expr.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::ir {

class IRVisitor {
 public:
  virtual ~IRVisitor() = default;
  virtual void visit(const Expr& e);
  virtual void visit(const Stmt& s);
  void visit(const Function& f);

 protected:
#define TASKMAP_DECLARE(name) virtual void visit_##name(const name##Node* op);
  TASKMAP_EXPR_NODES(TASKMAP_DECLARE)
  TASKMAP_STMT_NODES(TASKMAP_DECLARE)
#undef TASKMAP_DECLARE
};

class IRMutator {
 public:
  virtual ~IRMutator() = default;
  virtual Expr mutate(const Expr& e);
  virtual Stmt mutate(const Stmt& s);
  // Mutates the body (and the params, through mutate_binding); returns `f` itself if unchanged.
  Function mutate(const Function& f);

 protected:
  virtual Var mutate_binding(const Var& v);
  std::vector<Expr> mutate_all(const std::vector<Expr>& exprs, bool* changed);

#define TASKMAP_DECLARE(name) virtual Expr mutate_##name(const name##Node* op, const Expr& self);
  TASKMAP_EXPR_NODES(TASKMAP_DECLARE)
#undef TASKMAP_DECLARE
#define TASKMAP_DECLARE(name) virtual Stmt mutate_##name(const name##Node* op, const Stmt& self);
  TASKMAP_STMT_NODES(TASKMAP_DECLARE)
#undef TASKMAP_DECLARE
};

// Replaces variables by expressions (by identity). Bound variables are left alone.
Expr substitute(const Expr& e, const std::vector<std::pair<Var, Expr>>& map);
Stmt substitute(const Stmt& s, const std::vector<std::pair<Var, Expr>>& map);

// Replaces every load of `buffer` by `value`, whatever its indices (a caller that inlines a
// producer checks first that they are the producer's axes; a one-element tensor has one value).
Expr replace_loads(const Expr& e, const Var& buffer, const Expr& value);

// Calls `fn` on every expression node reachable from `root`, parents before children.
void post_order_visit(const Expr& root, const std::function<void(const Expr&)>& fn);

// The free variables of a statement, in first-use order (variables used but not bound inside).
std::vector<Var> free_vars(const Stmt& s);
std::vector<Var> free_vars(const Expr& e);

}  // namespace taskmap::ir

namespace taskmap::ir {

// A copy of `s` in which every variable bound inside it (Declare, LetStmt, For, ForMapping)
// is replaced by a fresh variable of the same name and type. Used when a statement is
// duplicated (unrolling) so that each copy declares its own variables.
Stmt rename_bound_vars(const Stmt& s);

}  // namespace taskmap::ir
