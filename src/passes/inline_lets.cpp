#include "passes/inline_lets.h"

#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

// Pure integer arithmetic over constants and variables, small enough to repeat at each use.
bool is_cheap(const Expr& e, int budget = 8) {
  bool cheap = true;
  int nodes = 0;
  post_order_visit(e, [&](const Expr& x) {
    ++nodes;
    switch (x.kind()) {
      case NodeKind::IntImm:
      case NodeKind::Var:
        break;
      case NodeKind::Binary:
      case NodeKind::Unary:
        cheap &= x.dtype().is_int() || x.dtype().is_bool();
        break;
      default:
        cheap = false;
    }
  });
  return cheap && nodes <= budget;
}

class LetInliner : public IRMutator {
 protected:
  Stmt mutate_LetStmt(const LetStmtNode* op, const Stmt& self) override {
    Expr value = mutate(op->value);
    if (is_cheap(value)) return mutate(substitute(op->body, {{op->var, value}}));
    Stmt body = mutate(op->body);
    if (value.same_as(op->value) && body.same_as(op->body)) return self;
    return let_stmt(op->var, value, body);
  }
};

}  // namespace

Function inline_lets(const Function& f) {
  return LetInliner().mutate(f);
}

}  // namespace taskmap::passes
