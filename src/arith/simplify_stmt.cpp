// The statement simplifier (see simplify.h): walks statements, keeping a BoundAnalyzer in step
// with the variables in scope, simplifies every expression with it, and removes control flow
// that the simplified conditions and extents decide.
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "taskmap/arith/simplify.h"
#include "taskmap/ir/functor.h"

namespace taskmap::arith {
namespace {

using ir::BinaryOp;
using ir::Expr;
using ir::Stmt;
using ir::Var;

bool is_empty(const Stmt& s) {
  const auto* seq = s.as<ir::SeqNode>();
  return seq && seq->stmts.empty();
}

bool is_int_scalar(const Expr& e) {
  return e.type().is_scalar() && !e.dtype().is_vector() &&
         (e.dtype().is_int() || e.dtype().is_bool());
}

// Bindings made for one scope, undone (restoring what they replaced) when it closes.
class Scope {
 public:
  explicit Scope(BoundAnalyzer& bounds) : bounds_(bounds) {}
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        bounds_.bind(it->first, *it->second);
      } else {
        bounds_.unbind(it->first);
      }
    }
  }

  void bind(const Var& v, IntBound b) {
    saved_.emplace_back(v, bounds_.binding(v));
    bounds_.bind(v, b);
  }

 private:
  BoundAnalyzer& bounds_;
  std::vector<std::pair<Var, std::optional<IntBound>>> saved_;
};

class StmtSimplifier : public ir::IRMutator {
 public:
  explicit StmtSimplifier(BoundAnalyzer bounds) : bounds_(std::move(bounds)) {}

  using ir::IRMutator::mutate;
  Expr mutate(const Expr& e) override {
    return simplify(registers_.empty() ? e : fold_register_indices(e), &bounds_);
  }

 protected:
  // Binding occurrences stay variables.
  Var mutate_binding(const Var& v) override { return v; }

  Stmt mutate_Declare(const ir::DeclareNode* op, const Stmt& self) override {
    if (op->scope == ir::StorageScope::local && op->var.type().is_tensor())
      registers_.insert(op->var.get());
    return ir::IRMutator::mutate_Declare(op, self);
  }

  Stmt mutate_Store(const ir::StoreNode* op, const Stmt& self) override {
    if (!registers_.count(op->buffer.get()) || op->indices.size() != 1)
      return ir::IRMutator::mutate_Store(op, self);
    Expr index = mutate(register_index(op->indices[0]));
    Expr value = mutate(op->value);
    if (index.same_as(op->indices[0]) && value.same_as(op->value)) return self;
    return ir::store(op->buffer, {index}, value);
  }

  Stmt mutate_Assign(const ir::AssignNode* op, const Stmt& self) override {
    Expr value = mutate(op->value);
    return value.same_as(op->value) ? self : ir::assign(op->var, value);
  }

  Stmt mutate_For(const ir::ForNode* op, const Stmt& self) override {
    Expr extent = mutate(op->extent);
    const IntBound trips = bounds_.bound(extent);
    if (trips.max <= 0) return ir::seq({});
    if (trips.is_point() && trips.min == 1) {
      return mutate(ir::substitute(op->body, {{op->var, ir::int_imm(0, op->var.dtype())}}));
    }
    Stmt body;
    {
      Scope scope(bounds_);
      const int64_t last = trips.max == IntBound::kPosInf ? IntBound::kPosInf : trips.max - 1;
      scope.bind(op->var, {0, last});
      body = mutate(op->body);
    }
    if (is_empty(body)) return body;
    if (extent.same_as(op->extent) && body.same_as(op->body)) return self;
    return ir::for_loop(op->var, extent, body, op->hint);
  }

  Stmt mutate_ForMapping(const ir::ForMappingNode* op, const Stmt& self) override {
    Expr worker = mutate(op->worker);
    Stmt body;
    {
      Scope scope(bounds_);
      const std::vector<int64_t>& shape = op->mapping.task_shape();
      for (size_t d = 0; d < op->vars.size() && d < shape.size(); ++d) {
        if (shape[d] >= 1) scope.bind(op->vars[d], {0, shape[d] - 1});
      }
      body = mutate(op->body);
    }
    if (worker.same_as(op->worker) && body.same_as(op->body)) return self;
    return ir::for_mapping(op->vars, op->mapping, worker, body);
  }

  Stmt mutate_LetStmt(const ir::LetStmtNode* op, const Stmt& self) override {
    Expr value = mutate(op->value);
    Stmt body;
    {
      Scope scope(bounds_);
      if (is_int_scalar(value) && is_int_scalar(op->var)) scope.bind(op->var, bounds_.bound(value));
      const bool arithmetic = is_int_scalar(op->var) && is_index_arithmetic(value);
      if (arithmetic) let_values_[op->var.get()] = value;
      body = mutate(op->body);
      if (arithmetic) let_values_.erase(op->var.get());
    }
    if (value.same_as(op->value) && body.same_as(op->body)) return self;
    return ir::let_stmt(op->var, value, body);
  }

  Stmt mutate_IfThenElse(const ir::IfThenElseNode* op, const Stmt& self) override {
    Expr cond = mutate(op->cond);
    if (const int64_t* value = ir::as_const_int(cond)) {
      if (*value) return mutate(op->then_case);
      return op->else_case.defined() ? mutate(op->else_case) : ir::seq({});
    }
    Stmt then_case, else_case;
    {
      Scope scope(bounds_);
      assume(cond, true, scope);
      then_case = mutate(op->then_case);
    }
    if (op->else_case.defined()) {
      Scope scope(bounds_);
      assume(cond, false, scope);
      else_case = mutate(op->else_case);
      if (is_empty(else_case)) else_case = Stmt();
    }
    if (is_empty(then_case) && !else_case.defined()) return ir::seq({});
    if (cond.same_as(op->cond) && then_case.same_as(op->then_case) &&
        else_case.same_as(op->else_case)) {
      return self;
    }
    return ir::if_then_else(cond, then_case, else_case);
  }

 private:
  // Integer arithmetic over variables and constants (no loads or calls).
  static bool is_index_arithmetic(const Expr& e) {
    bool pure = true;
    ir::post_order_visit(e, [&](const Expr& x) {
      const ir::NodeKind k = x.kind();
      pure &= (k == ir::NodeKind::IntImm || k == ir::NodeKind::Var || k == ir::NodeKind::Binary ||
               k == ir::NodeKind::Unary) &&
              is_int_scalar(x);
    });
    return pure;
  }

  // A register array's element index as a constant where it is one: unrolled loops leave each
  // copy's task coordinates in lets (`i = t / 64 * 64 + t / 4 % 8 + 56`), and a layout that
  // mirrors a task mapping reads back only their repeat part (`i / 16 % 4`), which is constant
  // but not visible without the lets' values. A register array indexed by a variable lives in
  // local memory, so the index is tried with the let values substituted and kept only when
  // that folds it to a constant.
  Expr register_index(const Expr& index) {
    if (ir::as_const_int(index) != nullptr || let_values_.empty()) return index;
    Expr expanded = index;
    for (int round = 0; round < 4; ++round) {
      std::vector<std::pair<Var, Expr>> map;
      for (const Var& v : ir::free_vars(expanded)) {
        auto it = let_values_.find(v.get());
        if (it != let_values_.end()) map.emplace_back(v, it->second);
      }
      if (map.empty()) break;
      expanded = ir::substitute(expanded, map);
    }
    Expr folded = simplify(expanded, &bounds_);
    return ir::as_const_int(folded) != nullptr ? folded : index;
  }

  // `e` with the indices of its loads from and addresses into register arrays folded.
  Expr fold_register_indices(const Expr& e) {
    class Folder : public ir::IRMutator {
     public:
      explicit Folder(StmtSimplifier& s) : s_(s) {}

     protected:
      Expr mutate_Load(const ir::LoadNode* op, const Expr& self) override {
        if (!s_.registers_.count(op->buffer.get()) || op->indices.size() != 1)
          return ir::IRMutator::mutate_Load(op, self);
        Expr index = s_.register_index(op->indices[0]);
        return index.same_as(op->indices[0]) ? self : ir::load(op->buffer, {index});
      }
      Expr mutate_Address(const ir::AddressNode* op, const Expr& self) override {
        if (!s_.registers_.count(op->buffer.get()) || op->indices.size() != 1)
          return ir::IRMutator::mutate_Address(op, self);
        Expr index = s_.register_index(op->indices[0]);
        return index.same_as(op->indices[0]) ? self : ir::address(op->buffer, {index});
      }

     private:
      StmtSimplifier& s_;
    };
    return Folder(*this).mutate(e);
  }

  // Narrows, within `scope`, the bounds of bound variables that `cond == truth` constrains.
  // Only variables that already have a binding are narrowed: those are immutable (loop, let and
  // mapping variables), so the fact holds throughout the branch.
  void assume(const Expr& cond, bool truth, Scope& scope) {
    if (const auto* op = cond.as<ir::UnaryNode>(); op && op->op == ir::UnaryOp::logical_not) {
      assume(op->a, !truth, scope);
      return;
    }
    const auto* op = cond.as<ir::BinaryNode>();
    if (!op) return;
    if ((op->op == BinaryOp::logical_and && truth) || (op->op == BinaryOp::logical_or && !truth)) {
      assume(op->a, truth, scope);
      assume(op->b, truth, scope);
      return;
    }
    if (!ir::is_comparison(op->op) || !is_int_scalar(op->a) || op->a.dtype().is_bool()) return;
    // Reduce to a < b, a <= b or a == b.
    Expr a = op->a, b = op->b;
    BinaryOp kind = op->op;
    if (!truth) {
      switch (kind) {
        case BinaryOp::lt:
          kind = BinaryOp::le;
          std::swap(a, b);
          break;  // b <= a
        case BinaryOp::le:
          kind = BinaryOp::lt;
          std::swap(a, b);
          break;  // b < a
        case BinaryOp::ne:
          kind = BinaryOp::eq;
          break;
        default:
          return;  // a != b says nothing about ranges
      }
    } else if (kind == BinaryOp::ne) {
      return;
    }
    const IntBound ba = bounds_.bound(a), bb = bounds_.bound(b);
    const int64_t gap = kind == BinaryOp::lt ? 1 : 0;
    auto minus_gap = [&](int64_t v) { return v == IntBound::kPosInf ? v : v - gap; };
    auto plus_gap = [&](int64_t v) { return v == IntBound::kNegInf ? v : v + gap; };
    if (kind == BinaryOp::eq) {
      narrow(a, bb.min, bb.max, scope);
      narrow(b, ba.min, ba.max, scope);
    } else {
      narrow(a, IntBound::kNegInf, minus_gap(bb.max), scope);  // a <= b.max - gap
      narrow(b, plus_gap(ba.min), IntBound::kPosInf, scope);   // b >= a.min + gap
    }
  }

  void narrow(const Expr& e, int64_t lo, int64_t hi, Scope& scope) {
    if (!e.as<ir::VarNode>()) return;
    const Var v = Var::from(e);
    const std::optional<IntBound> old = bounds_.binding(v);
    if (!old) return;
    const IntBound b{std::max(old->min, lo), std::min(old->max, hi)};
    // An empty range means the branch never runs; nothing to learn for simplification.
    if (b.min > b.max || b == *old) return;
    scope.bind(v, b);
  }

  BoundAnalyzer bounds_;
  std::unordered_set<const ir::ExprNode*> registers_;         // local arrays declared so far
  std::unordered_map<const ir::ExprNode*, Expr> let_values_;  // integer lets in scope
};

}  // namespace

Stmt simplify(const Stmt& s, const BoundAnalyzer* bounds) {
  StmtSimplifier simplifier(bounds ? *bounds : BoundAnalyzer());
  return simplifier.mutate(s);
}

ir::Function simplify(const ir::Function& f, const BoundAnalyzer* bounds) {
  Stmt body = simplify(f->body, bounds);
  return body.same_as(f->body) ? f : f.with_body(body);
}

}  // namespace taskmap::arith
