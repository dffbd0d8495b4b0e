// Default traversals of IRVisitor and IRMutator, generated from the node-kind list, plus the
// small utilities every pass needs (substitution, free variables).
#include "taskmap/ir/functor.h"

#include <unordered_map>
#include <unordered_set>

#include "taskmap/error.h"

namespace taskmap::ir {

// ---- IRVisitor ----------------------------------------------------------------------------

void IRVisitor::visit(const Expr& e) {
  if (!e.defined()) return;
  switch (e.kind()) {
#define TASKMAP_CASE(name) \
  case NodeKind::name:     \
    return visit_##name(static_cast<const name##Node*>(e.get()));
    TASKMAP_EXPR_NODES(TASKMAP_CASE)
#undef TASKMAP_CASE
    default:
      TM_UNREACHABLE() << "statement kind in expression position";
  }
}

void IRVisitor::visit(const Stmt& s) {
  if (!s.defined()) return;
  switch (s.kind()) {
#define TASKMAP_CASE(name) \
  case NodeKind::name:     \
    return visit_##name(static_cast<const name##Node*>(s.get()));
    TASKMAP_STMT_NODES(TASKMAP_CASE)
#undef TASKMAP_CASE
    default:
      TM_UNREACHABLE() << "expression kind in statement position";
  }
}

void IRVisitor::visit(const Function& f) {
  for (const Var& p : f->params) visit(p);
  visit(f->body);
}

void IRVisitor::visit_IntImm(const IntImmNode*) {}
void IRVisitor::visit_FloatImm(const FloatImmNode*) {}
void IRVisitor::visit_Var(const VarNode*) {}
void IRVisitor::visit_Binary(const BinaryNode* op) {
  visit(op->a);
  visit(op->b);
}
void IRVisitor::visit_Unary(const UnaryNode* op) {
  visit(op->a);
}
void IRVisitor::visit_Select(const SelectNode* op) {
  visit(op->cond);
  visit(op->true_value);
  visit(op->false_value);
}
void IRVisitor::visit_Cast(const CastNode* op) {
  visit(op->value);
}
void IRVisitor::visit_Load(const LoadNode* op) {
  visit(op->buffer);
  for (const Expr& i : op->indices) visit(i);
}
void IRVisitor::visit_Address(const AddressNode* op) {
  visit(op->buffer);
  for (const Expr& i : op->indices) visit(i);
}
void IRVisitor::visit_Call(const CallNode* op) {
  for (const Expr& a : op->args) visit(a);
}
void IRVisitor::visit_Compute(const ComputeNode* op) {
  for (const Var& a : op->axes) visit(a);
  visit(op->value);
}
void IRVisitor::visit_Reduce(const ReduceNode* op) {
  for (const Var& a : op->axes) visit(a);
  visit(op->value);
}

void IRVisitor::visit_Declare(const DeclareNode* op) {
  visit(op->var);
  visit(op->init);
}
void IRVisitor::visit_LetStmt(const LetStmtNode* op) {
  visit(op->var);
  visit(op->value);
  visit(op->body);
}
void IRVisitor::visit_Assign(const AssignNode* op) {
  visit(op->var);
  visit(op->value);
}
void IRVisitor::visit_Store(const StoreNode* op) {
  visit(op->buffer);
  for (const Expr& i : op->indices) visit(i);
  visit(op->value);
}
void IRVisitor::visit_Seq(const SeqNode* op) {
  for (const Stmt& s : op->stmts) visit(s);
}
void IRVisitor::visit_IfThenElse(const IfThenElseNode* op) {
  visit(op->cond);
  visit(op->then_case);
  visit(op->else_case);
}
void IRVisitor::visit_For(const ForNode* op) {
  visit(op->var);
  visit(op->extent);
  visit(op->body);
}
void IRVisitor::visit_ForMapping(const ForMappingNode* op) {
  for (const Var& v : op->vars) visit(v);
  visit(op->worker);
  visit(op->body);
}
void IRVisitor::visit_Evaluate(const EvaluateNode* op) {
  visit(op->value);
}
void IRVisitor::visit_Return(const ReturnNode* op) {
  visit(op->value);
}
void IRVisitor::visit_Assert(const AssertNode* op) {
  visit(op->cond);
}

// ---- IRMutator ----------------------------------------------------------------------------

Expr IRMutator::mutate(const Expr& e) {
  if (!e.defined()) return e;
  switch (e.kind()) {
#define TASKMAP_CASE(name) \
  case NodeKind::name:     \
    return mutate_##name(static_cast<const name##Node*>(e.get()), e);
    TASKMAP_EXPR_NODES(TASKMAP_CASE)
#undef TASKMAP_CASE
    default:
      TM_UNREACHABLE() << "statement kind in expression position";
  }
  return e;
}

Stmt IRMutator::mutate(const Stmt& s) {
  if (!s.defined()) return s;
  switch (s.kind()) {
#define TASKMAP_CASE(name) \
  case NodeKind::name:     \
    return mutate_##name(static_cast<const name##Node*>(s.get()), s);
    TASKMAP_STMT_NODES(TASKMAP_CASE)
#undef TASKMAP_CASE
    default:
      TM_UNREACHABLE() << "expression kind in statement position";
  }
  return s;
}

Function IRMutator::mutate(const Function& f) {
  bool changed = false;
  std::vector<Var> params;
  for (const Var& p : f->params) {
    params.push_back(mutate_binding(p));
    changed |= !params.back().same_as(p);
  }
  Stmt body = mutate(f->body);
  changed |= !body.same_as(f->body);
  return changed ? f.with_params_and_body(std::move(params), std::move(body)) : f;
}

Var IRMutator::mutate_binding(const Var& v) {
  Expr e = mutate(v);
  return e.as<VarNode>() ? Var::from(e) : v;
}

std::vector<Expr> IRMutator::mutate_all(const std::vector<Expr>& exprs, bool* changed) {
  std::vector<Expr> out;
  out.reserve(exprs.size());
  for (const Expr& e : exprs) {
    out.push_back(mutate(e));
    *changed |= !out.back().same_as(e);
  }
  return out;
}

Expr IRMutator::mutate_IntImm(const IntImmNode*, const Expr& self) {
  return self;
}
Expr IRMutator::mutate_FloatImm(const FloatImmNode*, const Expr& self) {
  return self;
}
Expr IRMutator::mutate_Var(const VarNode*, const Expr& self) {
  return self;
}

Expr IRMutator::mutate_Binary(const BinaryNode* op, const Expr& self) {
  Expr a = mutate(op->a), b = mutate(op->b);
  if (a.same_as(op->a) && b.same_as(op->b)) return self;
  return binary(op->op, a, b);
}
Expr IRMutator::mutate_Unary(const UnaryNode* op, const Expr& self) {
  Expr a = mutate(op->a);
  return a.same_as(op->a) ? self : unary(op->op, a);
}
Expr IRMutator::mutate_Select(const SelectNode* op, const Expr& self) {
  Expr c = mutate(op->cond), t = mutate(op->true_value), f = mutate(op->false_value);
  if (c.same_as(op->cond) && t.same_as(op->true_value) && f.same_as(op->false_value)) return self;
  return select(c, t, f);
}
Expr IRMutator::mutate_Cast(const CastNode* op, const Expr& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : cast(op->type, v);
}
Expr IRMutator::mutate_Load(const LoadNode* op, const Expr& self) {
  bool changed = false;
  Expr buffer = mutate(op->buffer);
  changed |= !buffer.same_as(op->buffer);
  std::vector<Expr> indices = mutate_all(op->indices, &changed);
  return changed ? load(buffer, std::move(indices)) : self;
}
Expr IRMutator::mutate_Address(const AddressNode* op, const Expr& self) {
  bool changed = false;
  Expr buffer = mutate(op->buffer);
  changed |= !buffer.same_as(op->buffer);
  std::vector<Expr> indices = mutate_all(op->indices, &changed);
  return changed ? address(buffer, std::move(indices)) : self;
}
Expr IRMutator::mutate_Call(const CallNode* op, const Expr& self) {
  bool changed = false;
  std::vector<Expr> args = mutate_all(op->args, &changed);
  if (!changed) return self;
  return Expr(std::make_shared<CallNode>(op->type, op->callee, std::move(args)));
}
Expr IRMutator::mutate_Compute(const ComputeNode* op, const Expr& self) {
  Expr value = mutate(op->value);
  if (value.same_as(op->value)) return self;
  return Expr(std::make_shared<ComputeNode>(Type::tensor(value.dtype(), op->type.shape()), op->name,
                                            op->axes, value));
}
Expr IRMutator::mutate_Reduce(const ReduceNode* op, const Expr& self) {
  Expr value = mutate(op->value);
  if (value.same_as(op->value)) return self;
  return Expr(
      std::make_shared<ReduceNode>(op->type, op->op, op->axes, op->extents, value, op->accumulate));
}

Stmt IRMutator::mutate_Declare(const DeclareNode* op, const Stmt& self) {
  Var v = mutate_binding(op->var);
  Expr init = mutate(op->init);
  if (v.same_as(op->var) && init.same_as(op->init)) return self;
  return declare(v, init, op->scope);
}
Stmt IRMutator::mutate_LetStmt(const LetStmtNode* op, const Stmt& self) {
  Var v = mutate_binding(op->var);
  Expr value = mutate(op->value);
  Stmt body = mutate(op->body);
  if (v.same_as(op->var) && value.same_as(op->value) && body.same_as(op->body)) return self;
  return let_stmt(v, value, body);
}
Stmt IRMutator::mutate_Assign(const AssignNode* op, const Stmt& self) {
  Expr target = mutate(op->var);
  Expr value = mutate(op->value);
  if (target.same_as(op->var) && value.same_as(op->value)) return self;
  return assign(Var::from(target), value);
}
Stmt IRMutator::mutate_Store(const StoreNode* op, const Stmt& self) {
  bool changed = false;
  Expr buffer = mutate(op->buffer);
  changed |= !buffer.same_as(op->buffer);
  std::vector<Expr> indices = mutate_all(op->indices, &changed);
  Expr value = mutate(op->value);
  changed |= !value.same_as(op->value);
  if (!changed) return self;
  return store(Var::from(buffer), std::move(indices), value);
}
Stmt IRMutator::mutate_Seq(const SeqNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Stmt> stmts;
  stmts.reserve(op->stmts.size());
  for (const Stmt& s : op->stmts) {
    stmts.push_back(mutate(s));
    changed |= !stmts.back().same_as(s);
  }
  return changed ? seq(std::move(stmts)) : self;
}
Stmt IRMutator::mutate_IfThenElse(const IfThenElseNode* op, const Stmt& self) {
  Expr c = mutate(op->cond);
  Stmt t = mutate(op->then_case), f = mutate(op->else_case);
  if (c.same_as(op->cond) && t.same_as(op->then_case) && f.same_as(op->else_case)) return self;
  return if_then_else(c, t, f);
}
Stmt IRMutator::mutate_For(const ForNode* op, const Stmt& self) {
  Var v = mutate_binding(op->var);
  Expr extent = mutate(op->extent);
  Stmt body = mutate(op->body);
  if (v.same_as(op->var) && extent.same_as(op->extent) && body.same_as(op->body)) return self;
  return for_loop(v, extent, body, op->hint);
}
Stmt IRMutator::mutate_ForMapping(const ForMappingNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Var> vars;
  for (const Var& v : op->vars) {
    vars.push_back(mutate_binding(v));
    changed |= !vars.back().same_as(v);
  }
  Expr worker = mutate(op->worker);
  Stmt body = mutate(op->body);
  changed |= !worker.same_as(op->worker) || !body.same_as(op->body);
  return changed ? for_mapping(std::move(vars), op->mapping, worker, body) : self;
}
Stmt IRMutator::mutate_Evaluate(const EvaluateNode* op, const Stmt& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : evaluate(v);
}
Stmt IRMutator::mutate_Return(const ReturnNode* op, const Stmt& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : return_stmt(v);
}
Stmt IRMutator::mutate_Assert(const AssertNode* op, const Stmt& self) {
  Expr c = mutate(op->cond);
  return c.same_as(op->cond) ? self : assert_stmt(c, op->message);
}

// ---- utilities ----------------------------------------------------------------------------

namespace {

class Substituter : public IRMutator {
 public:
  explicit Substituter(const std::vector<std::pair<Var, Expr>>& map) {
    for (const auto& [v, e] : map) map_[v.get()] = e;
  }

 protected:
  Expr mutate_Var(const VarNode* op, const Expr& self) override {
    auto it = map_.find(op);
    return it == map_.end() ? self : it->second;
  }
  Var mutate_binding(const Var& v) override { return v; }

 private:
  std::unordered_map<const void*, Expr> map_;
};

// Collects bound variables and used variables separately.
class VarCollector : public IRVisitor {
 public:
  std::unordered_set<const void*> bound;
  std::vector<Var> used;
  std::unordered_set<const void*> used_set;
  std::unordered_set<const void*> visited;  // a shared subexpression is entered once

  using IRVisitor::visit;
  void visit(const Expr& e) override {
    if (!e.defined() || !visited.insert(e.get()).second) return;
    if (e.kind() == NodeKind::Var && used_set.insert(e.get()).second) {
      used.push_back(Var::from(e));
    }
    IRVisitor::visit(e);
  }
  void visit_Declare(const DeclareNode* op) override {
    bound.insert(op->var.get());
    IRVisitor::visit_Declare(op);
  }
  void visit_LetStmt(const LetStmtNode* op) override {
    bound.insert(op->var.get());
    IRVisitor::visit_LetStmt(op);
  }
  void visit_For(const ForNode* op) override {
    bound.insert(op->var.get());
    IRVisitor::visit_For(op);
  }
  void visit_ForMapping(const ForMappingNode* op) override {
    for (const Var& v : op->vars) bound.insert(v.get());
    IRVisitor::visit_ForMapping(op);
  }
  void visit_Compute(const ComputeNode* op) override {
    for (const Var& v : op->axes) bound.insert(v.get());
    IRVisitor::visit_Compute(op);
  }
  void visit_Reduce(const ReduceNode* op) override {
    for (const Var& v : op->axes) bound.insert(v.get());
    IRVisitor::visit_Reduce(op);
  }

  std::vector<Var> free() const {
    std::vector<Var> out;
    for (const Var& v : used) {
      if (!bound.count(v.get())) out.push_back(v);
    }
    return out;
  }
};

}  // namespace

Expr substitute(const Expr& e, const std::vector<std::pair<Var, Expr>>& map) {
  return Substituter(map).mutate(e);
}

Stmt substitute(const Stmt& s, const std::vector<std::pair<Var, Expr>>& map) {
  return Substituter(map).mutate(s);
}

Expr replace_loads(const Expr& e, const Var& buffer, const Expr& value) {
  struct Replacer : IRMutator {
    const Var& buffer;
    const Expr& value;
    Replacer(const Var& buffer, const Expr& value) : buffer(buffer), value(value) {}
    Expr mutate_Load(const LoadNode* op, const Expr& self) override {
      if (op->buffer.same_as(buffer)) return value;
      return IRMutator::mutate_Load(op, self);
    }
  };
  return Replacer(buffer, value).mutate(e);
}

void post_order_visit(const Expr& root, const std::function<void(const Expr&)>& fn) {
  struct Walker : IRVisitor {
    const std::function<void(const Expr&)>& fn;
    explicit Walker(const std::function<void(const Expr&)>& fn) : fn(fn) {}
    using IRVisitor::visit;
    void visit(const Expr& e) override {
      if (!e.defined()) return;
      fn(e);
      IRVisitor::visit(e);
    }
  } walker(fn);
  walker.visit(root);
}

std::vector<Var> free_vars(const Stmt& s) {
  VarCollector c;
  c.visit(s);
  return c.free();
}

std::vector<Var> free_vars(const Expr& e) {
  VarCollector c;
  c.visit(e);
  return c.free();
}

}  // namespace taskmap::ir
