// rename_bound_vars: fresh variables for every binding inside a statement.
#include <unordered_map>

#include "taskmap/ir/functor.h"

namespace taskmap::ir {
namespace {

class Renamer : public IRMutator {
 protected:
  Var mutate_binding(const Var& v) override {
    Var fresh = var(v.name(), v.type());
    map_[v.get()] = fresh;
    return fresh;
  }
  Expr mutate_Var(const VarNode* op, const Expr& self) override {
    auto it = map_.find(op);
    return it == map_.end() ? self : it->second;
  }
  // Loads and stores of renamed tensors must see the new variable; the defaults route the
  // buffer through mutate(), which lands in mutate_Var above.

 private:
  std::unordered_map<const void*, Expr> map_;
};

}  // namespace

Stmt rename_bound_vars(const Stmt& s) {
  return Renamer().mutate(s);
}

}  // namespace taskmap::ir
