#include "passes/hoist_guarded_loads.h"

#include <utility>
#include <vector>

#include "passes/ranged_mutator.h"

namespace taskmap::passes {
namespace {

using namespace ir;

bool reads(const Expr& e, const Var& v) {
  for (const Var& u : free_vars(e))
    if (u.same_as(v)) return true;
  return false;
}

class GuardedLoadHoister : public RangedMutator {
 protected:
  Stmt mutate_For(const ForNode* op, const Stmt& self) override {
    const bool vector = op->hint.kind == LoopKind::vectorize;
    if (vector) vector_loops_.push_back(op->var);
    Stmt body = mutate_in_range(op->var, op->extent, op->body);
    if (vector) vector_loops_.pop_back();
    if (body.same_as(op->body)) return self;
    return for_loop(op->var, op->extent, body, op->hint);
  }

  Stmt mutate_Assign(const AssignNode* op, const Stmt& self) override {
    std::vector<std::pair<Var, Expr>> hoisted;
    Expr value = hoist(op->value, hoisted);
    if (hoisted.empty()) return self;
    return bind(assign(op->var, value), hoisted);
  }

  // A scalar declared with such a value (an accumulator's first term, whose load a fused
  // Pad prologue masks) is declared bare, then assigned the blend.
  Stmt mutate_Declare(const DeclareNode* op, const Stmt& self) override {
    if (!op->init.defined() || !op->var.type().is_scalar()) return self;
    std::vector<std::pair<Var, Expr>> hoisted;
    Expr value = hoist(op->init, hoisted);
    if (hoisted.empty()) return self;
    return seq({declare(op->var, {}, op->scope), bind(assign(op->var, value), hoisted)});
  }

 private:
  // Whether every index of `load` stays inside its tensor for every value of the loops around.
  bool in_range(const LoadNode* load) const {
    if (!load->buffer.type().is_tensor()) return false;
    const std::vector<int64_t>& shape = load->buffer.type().shape();
    if (shape.size() != load->indices.size()) return false;
    for (size_t d = 0; d < shape.size(); ++d) {
      arith::IntBound b = bounds_.bound(load->indices[d]);
      if (b.min < 0 || b.max >= shape[d]) return false;
    }
    return true;
  }

  // Replaces the selects of `e` that qualify by blends of their hoisted loads.
  class Blender : public IRMutator {
   public:
    Blender(const GuardedLoadHoister& h, std::vector<std::pair<Var, Expr>>& out)
        : h_(h), out_(out) {}

   protected:
    Expr mutate_Select(const SelectNode* op, const Expr& self) override {
      Expr t = mutate(op->true_value), f = mutate(op->false_value);
      const bool hoists = (safe_load(t) && is_plain(f)) || (safe_load(f) && is_plain(t));
      if (!hoists || !op->type.is_scalar() || reads(op->cond, h_.vector_loops_.back())) {
        if (t.same_as(op->true_value) && f.same_as(op->false_value)) return self;
        return select(op->cond, t, f);
      }
      return call("blend", {op->cond, take(t), take(f)}, op->type);
    }

   private:
    // Loads in range combined by float arithmetic (a depthwise window's x * w): evaluating it
    // where the select would not cannot fault or trap.
    bool safe_load(const Expr& e) const {
      if (const auto* load = e.as<LoadNode>()) return h_.in_range(load);
      const auto* b = e.as<BinaryNode>();
      if (b == nullptr || !e.dtype().is_float() || !b->type.is_scalar()) return false;
      if (b->op != BinaryOp::add && b->op != BinaryOp::sub && b->op != BinaryOp::mul) return false;
      return (safe_load(b->a) || is_plain(b->a)) && (safe_load(b->b) || is_plain(b->b));
    }
    static bool is_plain(const Expr& e) {
      return e.as<FloatImmNode>() || e.as<IntImmNode>() || e.as<VarNode>();
    }
    Expr take(const Expr& arm) {
      if (is_plain(arm)) return arm;
      Var v = var("guarded", arm.dtype());
      out_.emplace_back(v, arm);
      return v;
    }
    const GuardedLoadHoister& h_;
    std::vector<std::pair<Var, Expr>>& out_;
  };

  Expr hoist(const Expr& e, std::vector<std::pair<Var, Expr>>& hoisted) const {
    if (vector_loops_.empty()) return e;
    return Blender(*this, hoisted).mutate(e);
  }

  static Stmt bind(Stmt s, const std::vector<std::pair<Var, Expr>>& hoisted) {
    for (size_t i = hoisted.size(); i-- > 0;) s = let_stmt(hoisted[i].first, hoisted[i].second, s);
    return s;
  }

  std::vector<Var> vector_loops_;
};

}  // namespace

Function hoist_guarded_loads(const Function& f) {
  return GuardedLoadHoister().mutate(f);
}

}  // namespace taskmap::passes
