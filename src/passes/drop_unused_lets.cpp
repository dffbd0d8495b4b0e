#include "passes/drop_unused_lets.h"

#include <unordered_set>

#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

// The variables something reads (a LetStmt's own binding is not a read).
class ReadVars : public IRVisitor {
 public:
  std::unordered_set<const ExprNode*> read;

 protected:
  void visit_Var(const VarNode* op) override { read.insert(op); }
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

class UnusedLetDropper : public IRMutator {
 public:
  explicit UnusedLetDropper(std::unordered_set<const ExprNode*> read) : read_(std::move(read)) {}

  int dropped = 0;

 protected:
  // (Reads are counted before any binding goes: a binding read only by a dropped one's value
  // goes in the next round.)
  Stmt mutate_LetStmt(const LetStmtNode* op, const Stmt& self) override {
    if (!read_.count(op->var.get()) && !has_call(op->value)) {
      ++dropped;
      return mutate(op->body);
    }
    return IRMutator::mutate_LetStmt(op, self);
  }

 private:
  std::unordered_set<const ExprNode*> read_;
};

}  // namespace

// Rounds until none goes: a guard folded away can leave a chain of bindings (a row's index read
// only by the row, the row only by the guard), one link freed per round.
Function drop_unused_lets(const Function& f) {
  Function out = f;
  for (;;) {
    ReadVars reads;
    reads.visit(out->body);
    UnusedLetDropper dropper(std::move(reads.read));
    Function next = dropper.mutate(out);
    if (dropper.dropped == 0) return out;
    out = next;
  }
}

}  // namespace taskmap::passes
