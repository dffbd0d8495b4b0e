#pragma once
// A mutator that knows the ranges of the loop and integer let variables around what it visits
// (`bounds_`), for passes that decide by bounds: whether a load is in range, what a condition
// is worth inside a loop piece.
#include "taskmap/arith/bound.h"
#include "taskmap/ir/functor.h"

namespace taskmap::passes {

class RangedMutator : public ir::IRMutator {
 protected:
  // `body` mutated with `var` bound to [0, extent) (where the extent has a finite bound).
  ir::Stmt mutate_in_range(const ir::Var& var, const ir::Expr& extent, const ir::Stmt& body) {
    const arith::IntBound e = bounds_.bound(extent);
    const bool bound = e.max >= 1 && e.max != arith::IntBound::kPosInf;
    if (bound) bounds_.bind_range(var, e.max);
    ir::Stmt out = mutate(body);
    if (bound) bounds_.unbind(var);
    return out;
  }

  ir::Stmt mutate_For(const ir::ForNode* op, const ir::Stmt& self) override {
    ir::Stmt body = mutate_in_range(op->var, op->extent, op->body);
    if (body.same_as(op->body)) return self;
    return ir::for_loop(op->var, op->extent, body, op->hint);
  }

  ir::Stmt mutate_LetStmt(const ir::LetStmtNode* op, const ir::Stmt& self) override {
    const bool bound = op->value.dtype().is_int();
    if (bound) bounds_.bind(op->var, bounds_.bound(op->value));
    ir::Stmt body = mutate(op->body);
    if (bound) bounds_.unbind(op->var);
    if (body.same_as(op->body)) return self;
    return ir::let_stmt(op->var, op->value, body);
  }

  arith::BoundAnalyzer bounds_;
};

}  // namespace taskmap::passes
