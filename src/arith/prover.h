#pragma once
// What the simplifier knows while it works on one expression: the variable bounds (fixed
// meanwhile) and every bound found so far, so that asking about each node of an expression, and
// about the candidates rules build, costs time linear in their size. One per simplify call.
#include "taskmap/arith/bound.h"

namespace taskmap::arith {

class Prover {
 public:
  explicit Prover(const BoundAnalyzer& bounds) : bounds_(bounds) {}
  Prover(const Prover&) = delete;
  Prover& operator=(const Prover&) = delete;

  IntBound bound(const ir::Expr& e) { return bounds_.bound(e, &memo_); }
  bool can_prove(const ir::Expr& cond) { return bounds_.can_prove(cond, &memo_); }
  bool can_disprove(const ir::Expr& cond) { return bounds_.can_disprove(cond, &memo_); }
  bool is_nonneg(const ir::Expr& e) { return bounds_.is_nonneg(e, &memo_); }

 private:
  const BoundAnalyzer& bounds_;
  BoundMemo memo_;
};

}  // namespace taskmap::arith
