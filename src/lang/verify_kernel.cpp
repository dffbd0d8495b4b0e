// verify_kernel: catches malformed templates before any code is generated. Two checks, both on
// bounds proven from loop extents, mapping task shapes and enclosing `if` conditions:
//   - a ForMapping's worker must stay in [0, num_workers): a mapping driven by a larger loop
//     would hand out tasks outside its task shape;
//   - every tensor index must stay inside its dimension. Indices whose bound is unknown (they
//     depend on loaded data) are not judged.
#include <sstream>

#include "taskmap/arith/bound.h"
#include "taskmap/error.h"
#include "taskmap/ir/equality.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::lang {
namespace {

using namespace ir;
using arith::IntBound;

std::string tuple_str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

class KernelVerifier : public IRVisitor {
 public:
  explicit KernelVerifier(const Function& f) : f_(f) {}
  using IRVisitor::visit;

 protected:
  void visit_For(const ForNode* op) override {
    visit(op->extent);
    IntBound extent = bounds_.bound(op->extent);
    if (extent.max >= 1 && extent.max != IntBound::kPosInf) {
      bounds_.bind_range(op->var, extent.max);
    }
    visit(op->body);
    bounds_.unbind(op->var);
  }

  void visit_ForMapping(const ForMappingNode* op) override {
    visit(op->worker);
    const TaskMapping& m = op->mapping;
    IntBound w = bounds_.bound(op->worker);
    TM_USER_CHECK(w.min >= 0 && w.max < m.num_workers())
        << "kernel '" << f_->name << "': mapping " << m.str() << " has " << m.num_workers()
        << " workers, but its worker `" << to_string(op->worker) << "` ranges over " << w.str()
        << "; the loop that drives the mapping must match its worker count";
    for (size_t d = 0; d < op->vars.size(); ++d) bounds_.bind_range(op->vars[d], m.task_shape()[d]);
    mappings_.push_back(op);
    visit(op->body);
    mappings_.pop_back();
    for (const Var& v : op->vars) bounds_.unbind(v);
  }

  void visit_LetStmt(const LetStmtNode* op) override {
    visit(op->value);
    if (op->value.dtype().is_int()) bounds_.bind(op->var, bounds_.bound(op->value));
    visit(op->body);
    bounds_.unbind(op->var);
  }

  void visit_IfThenElse(const IfThenElseNode* op) override {
    visit(op->cond);
    size_t saved = facts_.size(), saved_vars = narrowed_.size();
    add_facts(op->cond);
    visit(op->then_case);
    facts_.resize(saved);
    while (narrowed_.size() > saved_vars) {
      bounds_.bind(narrowed_.back().first, narrowed_.back().second);
      narrowed_.pop_back();
    }
    visit(op->else_case);
  }

  void visit_Load(const LoadNode* op) override {
    IRVisitor::visit_Load(op);
    check(op->buffer, op->indices, "load");
  }
  void visit_Address(const AddressNode* op) override {
    IRVisitor::visit_Address(op);
    check(op->buffer, op->indices, "address");
  }
  void visit_Store(const StoreNode* op) override {
    IRVisitor::visit_Store(op);
    check(op->buffer, op->indices, "store");
  }

 private:
  // Records `a < b` / `a <= b` conjuncts with a constant right side as upper bounds of `a`.
  void add_facts(const Expr& cond) {
    const auto* b = cond.as<BinaryNode>();
    if (!b) return;
    if (b->op == BinaryOp::logical_and) {
      add_facts(b->a);
      add_facts(b->b);
      return;
    }
    if (b->op != BinaryOp::lt && b->op != BinaryOp::le) return;
    IntBound rhs = bounds_.bound(b->b);
    if (rhs.max == IntBound::kPosInf) return;
    int64_t upper = b->op == BinaryOp::lt ? rhs.max - 1 : rhs.max;
    facts_.push_back({b->a, upper});
    // A bound on a variable holds for every expression over it (`tile < 3` bounds
    // `tile * 64 + i`), so the variable's own range narrows for the then-branch.
    if (b->a.as<VarNode>()) {
      Var v = Var::from(b->a);
      IntBound old = bounds_.bound(v);
      if (upper < old.max) {
        narrowed_.emplace_back(v, old);
        bounds_.bind(v, {old.min, upper});
      }
    }
  }

  IntBound bound_of(const Expr& e) const {
    IntBound b = bounds_.bound(e);
    for (const auto& [lhs, upper] : facts_) {
      if (struct_equal(lhs, e)) b.max = std::min(b.max, upper);
    }
    return b;
  }

  void check(const Expr& buffer, const std::vector<Expr>& indices, const char* what) {
    if (!buffer.type().is_tensor()) return;
    const std::vector<int64_t>& shape = buffer.type().shape();
    for (size_t d = 0; d < indices.size(); ++d) {
      IntBound b = bound_of(indices[d]);
      if (b.min == IntBound::kNegInf || b.max == IntBound::kPosInf) continue;  // data-dependent
      if (b.min >= 0 && b.max < shape[d]) continue;
      std::ostringstream os;
      os << "kernel '" << f_->name << "': index " << d << " of tensor '"
         << (buffer.as<VarNode>() ? buffer.as<VarNode>()->name : std::string("?")) << "' (shape "
         << tuple_str(shape) << ") ranges over " << b.str() << " in this " << what
         << ", outside [0, " << shape[d] - 1 << "]";
      if (!mappings_.empty()) {
        const TaskMapping& m = mappings_.back()->mapping;
        os << "; it is inside a loop over mapping " << m.str() << " whose task shape is "
           << tuple_str(m.task_shape()) << ": the mapping does not cover the tensor it drives";
      }
      TM_USER_ERROR() << os.str();
    }
  }

  const Function& f_;
  arith::BoundAnalyzer bounds_;
  std::vector<std::pair<Var, IntBound>> narrowed_;  // variables narrowed by `if`s, old bounds
  std::vector<std::pair<Expr, int64_t>> facts_;
  std::vector<const ForMappingNode*> mappings_;
};

}  // namespace

void verify_kernel(const Function& f) {
  KernelVerifier v(f);
  v.visit(f->body);
}

}  // namespace taskmap::lang
