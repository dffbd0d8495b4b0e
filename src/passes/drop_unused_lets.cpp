#include "passes/drop_unused_lets.h"

#include <unordered_map>

#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

// How often each variable is read (a LetStmt's own binding is not a read); `step` -1 takes the
// reads of an expression away again.
class ReadCounts : public IRVisitor {
 public:
  std::unordered_map<const ExprNode*, int> reads;
  int step = 1;

 protected:
  void visit_Var(const VarNode* op) override { reads[op] += step; }
  void visit_LetStmt(const LetStmtNode* op) override {
    visit(op->value);
    visit(op->body);
  }
};

bool has_call(const Expr& e) {
  bool found = false;
  post_order_visit(e, [&](const Expr& x) { found |= x.kind() == NodeKind::Call; });
  return found;
}

// One pass, inner bindings first: a binding's reads all lie in its body, so once the body is
// done its count is final, and a dropped binding's value no longer reads what it named (a
// row's index read only by a row whose guard was folded away goes with the row).
class UnusedLetDropper : public IRMutator {
 public:
  explicit UnusedLetDropper(ReadCounts counts) : counts_(std::move(counts)) {}

 protected:
  Stmt mutate_LetStmt(const LetStmtNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    if (counts_.reads[op->var.get()] == 0 && !has_call(op->value)) {
      counts_.step = -1;
      counts_.visit(op->value);
      counts_.step = 1;
      return body;
    }
    if (body.same_as(op->body)) return self;
    return let_stmt(op->var, op->value, body);
  }

 private:
  ReadCounts counts_;
};

}  // namespace

Function drop_unused_lets(const Function& f) {
  ReadCounts counts;
  counts.visit(f->body);
  return UnusedLetDropper(std::move(counts)).mutate(f);
}

}  // namespace taskmap::passes
