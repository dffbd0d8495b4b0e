#include "passes/split_loops_at_selects.h"

#include <set>
#include <vector>

#include "passes/ranged_mutator.h"
#include "taskmap/arith/simplify.h"

namespace taskmap::passes {
namespace {

using namespace ir;

constexpr size_t kMostPieces = 8;

// The constants c in (0, extent) at which a comparison of `v` itself with c changes its value
// along [0, extent): v < c and c <= v change at c, v <= c and c < v at c + 1.
void collect_cuts(const Expr& cond, const Var& v, int64_t extent, std::set<int64_t>& cuts) {
  const auto* b = cond.as<BinaryNode>();
  if (b == nullptr) return;
  if (b->op == BinaryOp::logical_and || b->op == BinaryOp::logical_or) {
    collect_cuts(b->a, v, extent, cuts);
    collect_cuts(b->b, v, extent, cuts);
    return;
  }
  if (b->op != BinaryOp::lt && b->op != BinaryOp::le) return;
  const auto* var_a = b->a.as<VarNode>();
  const auto* var_b = b->b.as<VarNode>();
  const auto* imm_a = b->a.as<IntImmNode>();
  const auto* imm_b = b->b.as<IntImmNode>();
  int64_t cut = -1;
  if (var_a == v.get() && imm_b != nullptr)  // v < c, v <= c
    cut = imm_b->value + (b->op == BinaryOp::le ? 1 : 0);
  else if (var_b == v.get() && imm_a != nullptr)  // c < v, c <= v
    cut = imm_a->value + (b->op == BinaryOp::lt ? 1 : 0);
  if (cut > 0 && cut < extent) cuts.insert(cut);
}

// The cuts of every select in a statement.
class CutCollector : public IRVisitor {
 public:
  CutCollector(const Var& v, int64_t extent) : v_(v), extent_(extent) {}
  std::set<int64_t> cuts;

 protected:
  void visit_Select(const SelectNode* op) override {
    collect_cuts(op->cond, v_, extent_, cuts);
    IRVisitor::visit_Select(op);
  }

 private:
  const Var& v_;
  int64_t extent_;
};

class LoopSplitter : public RangedMutator {
 protected:
  Stmt mutate_For(const ForNode* op, const Stmt& self) override {
    Stmt body = mutate_in_range(op->var, op->extent, op->body);
    const auto* extent = op->extent.as<IntImmNode>();
    const bool splittable =
        extent != nullptr && extent->value >= 1 &&
        (op->hint.kind == LoopKind::serial || op->hint.kind == LoopKind::vectorize);
    std::set<int64_t> cuts;
    if (splittable) {
      CutCollector collector(op->var, extent->value);
      collector.visit(body);
      cuts = std::move(collector.cuts);
    }
    if (cuts.empty() || cuts.size() + 1 > kMostPieces) {
      if (body.same_as(op->body)) return self;
      return for_loop(op->var, op->extent, body, op->hint);
    }
    std::vector<int64_t> edges = {0};
    edges.insert(edges.end(), cuts.begin(), cuts.end());
    edges.push_back(extent->value);
    std::vector<Stmt> pieces;
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
      const int64_t begin = edges[i], length = edges[i + 1] - edges[i];
      Var v = var(op->var->name, op->var.dtype());
      Stmt piece = substitute(body, {{op->var, v + begin}});
      bounds_.bind_range(v, length);
      piece = arith::simplify(piece, &bounds_);
      bounds_.unbind(v);
      pieces.push_back(for_loop(v, int_imm(length), piece, op->hint));
    }
    return seq(std::move(pieces));
  }
};

}  // namespace

Function split_loops_at_selects(const Function& f) {
  return LoopSplitter().mutate(f);
}

}  // namespace taskmap::passes
