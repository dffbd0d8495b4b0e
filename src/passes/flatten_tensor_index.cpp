#include "passes/flatten_tensor_index.h"

#include <unordered_map>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

bool is_flat(const Type& t) {
  return t.shape().size() == 1 && t.layout() == Layout::row_major(t.shape());
}

class Flattener : public IRMutator {
 protected:
  Var mutate_binding(const Var& v) override {
    if (!v.type().is_tensor() || is_flat(v.type())) return v;
    auto it = retyped_.find(v.get());
    if (it != retyped_.end()) return it->second;
    Var flat = var(v.name(), Type::tensor(v.dtype(), {v.type().layout().size()}));
    retyped_[v.get()] = flat;
    return flat;
  }

  Expr mutate_Var(const VarNode* op, const Expr& self) override {
    auto it = retyped_.find(op);
    return it == retyped_.end() ? self : it->second;
  }

  Expr mutate_Load(const LoadNode* op, const Expr& self) override {
    auto [buffer, index, changed] = flatten(op->buffer, op->indices);
    return changed ? load(buffer, {index}) : self;
  }

  Expr mutate_Address(const AddressNode* op, const Expr& self) override {
    auto [buffer, index, changed] = flatten(op->buffer, op->indices);
    return changed ? address(buffer, {index}) : self;
  }

  Stmt mutate_Store(const StoreNode* op, const Stmt& self) override {
    auto [buffer, index, changed] = flatten(op->buffer, op->indices);
    Expr value = mutate(op->value);
    if (!changed && value.same_as(op->value)) return self;
    return store(Var::from(buffer), {index}, value);
  }

 private:
  struct Flat {
    Expr buffer;
    Expr index;
    bool changed;
  };

  Flat flatten(const Expr& buffer, const std::vector<Expr>& indices) {
    TM_ASSERT(!buffer.as<ComputeNode>()) << "flatten_tensor_index met an unscheduled compute";
    bool changed = false;
    std::vector<Expr> idx = mutate_all(indices, &changed);
    if (buffer.as<VarNode>() && buffer.type().is_tensor() && !is_flat(buffer.type())) {
      // Bind first so parameters and declarations seen later map to the same new variable.
      Var flat = mutate_binding(Var::from(buffer));
      return {flat, buffer.type().layout().offset(idx), true};
    }
    Expr b = mutate(buffer);
    changed |= !b.same_as(buffer);
    if (idx.size() == 1) return {b, idx[0], changed};
    return {b, buffer.type().layout().offset(idx), true};
  }

  std::unordered_map<const void*, Var> retyped_;
};

}  // namespace

Function flatten_tensor_index(const Function& f) {
  return Flattener().mutate(f);
}

}  // namespace taskmap::passes
