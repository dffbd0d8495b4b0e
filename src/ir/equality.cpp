// Structural equality and hashing, modulo the renaming of bound variables.
#include "taskmap/ir/equality.h"

#include <functional>
#include <unordered_map>

#include "taskmap/error.h"

namespace taskmap::ir {
namespace {

class Equal {
 public:
  bool bind(const Expr& a, const Expr& b) {
    if (!(a.type() == b.type())) return false;
    map_[a.get()] = b.get();
    return true;
  }

  bool bind_all(const std::vector<Var>& a, const std::vector<Var>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!bind(a[i], b[i])) return false;
    }
    return true;
  }

  bool exprs(const std::vector<Expr>& a, const std::vector<Expr>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!expr(a[i], b[i])) return false;
    }
    return true;
  }

  bool expr(const Expr& a, const Expr& b) {
    if (a.defined() != b.defined()) return false;
    if (!a.defined()) return true;
    if (a.kind() == NodeKind::Var) return check_var(a, b);
    if (a.same_as(b)) return true;
    if (a.kind() != b.kind() || !(a.type() == b.type())) return false;
    switch (a.kind()) {
      case NodeKind::IntImm:
        return a.as<IntImmNode>()->value == b.as<IntImmNode>()->value;
      case NodeKind::FloatImm: {
        double x = a.as<FloatImmNode>()->value, y = b.as<FloatImmNode>()->value;
        return x == y || (x != x && y != y);
      }
      case NodeKind::Var:
        return check_var(a, b);
      case NodeKind::Binary: {
        const auto *x = a.as<BinaryNode>(), *y = b.as<BinaryNode>();
        return x->op == y->op && expr(x->a, y->a) && expr(x->b, y->b);
      }
      case NodeKind::Unary: {
        const auto *x = a.as<UnaryNode>(), *y = b.as<UnaryNode>();
        return x->op == y->op && expr(x->a, y->a);
      }
      case NodeKind::Select: {
        const auto *x = a.as<SelectNode>(), *y = b.as<SelectNode>();
        return expr(x->cond, y->cond) && expr(x->true_value, y->true_value) &&
               expr(x->false_value, y->false_value);
      }
      case NodeKind::Cast:
        return expr(a.as<CastNode>()->value, b.as<CastNode>()->value);
      case NodeKind::Load: {
        const auto *x = a.as<LoadNode>(), *y = b.as<LoadNode>();
        return expr(x->buffer, y->buffer) && exprs(x->indices, y->indices);
      }
      case NodeKind::Address: {
        const auto *x = a.as<AddressNode>(), *y = b.as<AddressNode>();
        return expr(x->buffer, y->buffer) && exprs(x->indices, y->indices);
      }
      case NodeKind::Call: {
        const auto *x = a.as<CallNode>(), *y = b.as<CallNode>();
        return x->callee == y->callee && exprs(x->args, y->args);
      }
      case NodeKind::Compute: {
        const auto *x = a.as<ComputeNode>(), *y = b.as<ComputeNode>();
        return x->name == y->name && bind_all(x->axes, y->axes) && expr(x->value, y->value);
      }
      case NodeKind::Reduce: {
        const auto *x = a.as<ReduceNode>(), *y = b.as<ReduceNode>();
        return x->op == y->op && x->extents == y->extents && x->accumulate == y->accumulate &&
               bind_all(x->axes, y->axes) && expr(x->value, y->value);
      }
      default:
        TM_UNREACHABLE();
    }
    return false;
  }

  bool stmt(const Stmt& a, const Stmt& b) {
    if (a.defined() != b.defined()) return false;
    if (!a.defined()) return true;
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
      case NodeKind::Declare: {
        const auto *x = a.as<DeclareNode>(), *y = b.as<DeclareNode>();
        return x->scope == y->scope && expr(x->init, y->init) && bind(x->var, y->var);
      }
      case NodeKind::LetStmt: {
        const auto *x = a.as<LetStmtNode>(), *y = b.as<LetStmtNode>();
        return expr(x->value, y->value) && bind(x->var, y->var) && stmt(x->body, y->body);
      }
      case NodeKind::Assign: {
        const auto *x = a.as<AssignNode>(), *y = b.as<AssignNode>();
        return expr(x->var, y->var) && expr(x->value, y->value);
      }
      case NodeKind::Store: {
        const auto *x = a.as<StoreNode>(), *y = b.as<StoreNode>();
        return expr(x->buffer, y->buffer) && exprs(x->indices, y->indices) &&
               expr(x->value, y->value);
      }
      case NodeKind::Seq: {
        const auto *x = a.as<SeqNode>(), *y = b.as<SeqNode>();
        if (x->stmts.size() != y->stmts.size()) return false;
        for (size_t i = 0; i < x->stmts.size(); ++i) {
          if (!stmt(x->stmts[i], y->stmts[i])) return false;
        }
        return true;
      }
      case NodeKind::IfThenElse: {
        const auto *x = a.as<IfThenElseNode>(), *y = b.as<IfThenElseNode>();
        return expr(x->cond, y->cond) && stmt(x->then_case, y->then_case) &&
               stmt(x->else_case, y->else_case);
      }
      case NodeKind::For: {
        const auto *x = a.as<ForNode>(), *y = b.as<ForNode>();
        return x->hint == y->hint && expr(x->extent, y->extent) && bind(x->var, y->var) &&
               stmt(x->body, y->body);
      }
      case NodeKind::ForMapping: {
        const auto *x = a.as<ForMappingNode>(), *y = b.as<ForMappingNode>();
        return x->mapping == y->mapping && expr(x->worker, y->worker) &&
               bind_all(x->vars, y->vars) && stmt(x->body, y->body);
      }
      case NodeKind::Evaluate:
        return expr(a.as<EvaluateNode>()->value, b.as<EvaluateNode>()->value);
      case NodeKind::Return:
        return expr(a.as<ReturnNode>()->value, b.as<ReturnNode>()->value);
      case NodeKind::Assert: {
        const auto *x = a.as<AssertNode>(), *y = b.as<AssertNode>();
        return x->message == y->message && expr(x->cond, y->cond);
      }
      default:
        TM_UNREACHABLE();
    }
    return false;
  }

 private:
  // A variable bound in `a` must correspond to its partner; a free one must be the same.
  bool check_var(const Expr& a, const Expr& b) {
    auto it = map_.find(a.get());
    if (it != map_.end()) return it->second == b.get();
    return a.same_as(b);
  }

  std::unordered_map<const void*, const void*> map_;
};

class Hasher {
 public:
  size_t value = 0x9e3779b97f4a7c15ULL;

  void mix(size_t h) { value ^= h + 0x9e3779b97f4a7c15ULL + (value << 6) + (value >> 2); }

  void bind(const Expr& v) {
    bound_[v.get()] = next_++;
    mix(std::hash<std::string>()(v.type().str()));
  }

  void expr(const Expr& e) {
    if (!e.defined()) {
      mix(0xdead);
      return;
    }
    mix(static_cast<size_t>(e.kind()) * 31 + 7);
    mix(std::hash<std::string>()(e.type().str()));
    switch (e.kind()) {
      case NodeKind::IntImm:
        mix(std::hash<int64_t>()(e.as<IntImmNode>()->value));
        break;
      case NodeKind::FloatImm: {
        double v = e.as<FloatImmNode>()->value;
        mix(v != v ? 0x7ff8 : std::hash<double>()(v));
        break;
      }
      case NodeKind::Var: {
        auto it = bound_.find(e.get());
        mix(it != bound_.end() ? std::hash<size_t>()(it->second)
                               : std::hash<const void*>()(e.get()));
        break;
      }
      case NodeKind::Binary:
        mix(static_cast<size_t>(e.as<BinaryNode>()->op));
        expr(e.as<BinaryNode>()->a);
        expr(e.as<BinaryNode>()->b);
        break;
      case NodeKind::Unary:
        mix(static_cast<size_t>(e.as<UnaryNode>()->op));
        expr(e.as<UnaryNode>()->a);
        break;
      case NodeKind::Select:
        expr(e.as<SelectNode>()->cond);
        expr(e.as<SelectNode>()->true_value);
        expr(e.as<SelectNode>()->false_value);
        break;
      case NodeKind::Cast:
        expr(e.as<CastNode>()->value);
        break;
      case NodeKind::Load:
        expr(e.as<LoadNode>()->buffer);
        for (const Expr& i : e.as<LoadNode>()->indices) expr(i);
        break;
      case NodeKind::Address:
        expr(e.as<AddressNode>()->buffer);
        for (const Expr& i : e.as<AddressNode>()->indices) expr(i);
        break;
      case NodeKind::Call:
        mix(std::hash<const void*>()(e.as<CallNode>()->callee));
        for (const Expr& a : e.as<CallNode>()->args) expr(a);
        break;
      case NodeKind::Compute:
        mix(std::hash<std::string>()(e.as<ComputeNode>()->name));
        for (const Var& a : e.as<ComputeNode>()->axes) bind(a);
        expr(e.as<ComputeNode>()->value);
        break;
      case NodeKind::Reduce:
        mix(static_cast<size_t>(e.as<ReduceNode>()->op));
        for (int64_t n : e.as<ReduceNode>()->extents) mix(std::hash<int64_t>()(n));
        for (const Var& a : e.as<ReduceNode>()->axes) bind(a);
        expr(e.as<ReduceNode>()->value);
        break;
      default:
        TM_UNREACHABLE();
    }
  }

  void stmt(const Stmt& s) {
    if (!s.defined()) {
      mix(0xbeef);
      return;
    }
    mix(static_cast<size_t>(s.kind()) * 131 + 3);
    switch (s.kind()) {
      case NodeKind::Declare:
        mix(static_cast<size_t>(s.as<DeclareNode>()->scope));
        expr(s.as<DeclareNode>()->init);
        bind(s.as<DeclareNode>()->var);
        break;
      case NodeKind::LetStmt:
        expr(s.as<LetStmtNode>()->value);
        bind(s.as<LetStmtNode>()->var);
        stmt(s.as<LetStmtNode>()->body);
        break;
      case NodeKind::Assign:
        expr(s.as<AssignNode>()->var);
        expr(s.as<AssignNode>()->value);
        break;
      case NodeKind::Store:
        expr(s.as<StoreNode>()->buffer);
        for (const Expr& i : s.as<StoreNode>()->indices) expr(i);
        expr(s.as<StoreNode>()->value);
        break;
      case NodeKind::Seq:
        for (const Stmt& x : s.as<SeqNode>()->stmts) stmt(x);
        break;
      case NodeKind::IfThenElse:
        expr(s.as<IfThenElseNode>()->cond);
        stmt(s.as<IfThenElseNode>()->then_case);
        stmt(s.as<IfThenElseNode>()->else_case);
        break;
      case NodeKind::For:
        mix(static_cast<size_t>(s.as<ForNode>()->hint.kind));
        expr(s.as<ForNode>()->extent);
        bind(s.as<ForNode>()->var);
        stmt(s.as<ForNode>()->body);
        break;
      case NodeKind::ForMapping:
        mix(std::hash<std::string>()(s.as<ForMappingNode>()->mapping.str()));
        expr(s.as<ForMappingNode>()->worker);
        for (const Var& v : s.as<ForMappingNode>()->vars) bind(v);
        stmt(s.as<ForMappingNode>()->body);
        break;
      case NodeKind::Evaluate:
        expr(s.as<EvaluateNode>()->value);
        break;
      case NodeKind::Return:
        expr(s.as<ReturnNode>()->value);
        break;
      case NodeKind::Assert:
        mix(std::hash<std::string>()(s.as<AssertNode>()->message));
        expr(s.as<AssertNode>()->cond);
        break;
      default:
        TM_UNREACHABLE();
    }
  }

 private:
  std::unordered_map<const void*, size_t> bound_;
  size_t next_ = 0;
};

}  // namespace

bool struct_equal(const Expr& a, const Expr& b) {
  return Equal().expr(a, b);
}
bool struct_equal(const Stmt& a, const Stmt& b) {
  return Equal().stmt(a, b);
}

bool struct_equal(const Function& a, const Function& b) {
  Equal eq;
  return a->name == b->name && a->kind == b->kind && a->ret_type == b->ret_type &&
         eq.bind_all(a->params, b->params) && eq.stmt(a->body, b->body);
}

size_t struct_hash(const Expr& e) {
  Hasher h;
  h.expr(e);
  return h.value;
}

size_t struct_hash(const Stmt& s) {
  Hasher h;
  h.stmt(s);
  return h.value;
}

size_t struct_hash(const Function& f) {
  Hasher h;
  h.mix(std::hash<std::string>()(f->name));
  for (const Var& p : f->params) h.bind(p);
  h.stmt(f->body);
  return h.value;
}

}  // namespace taskmap::ir
