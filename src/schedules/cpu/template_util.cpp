#include "schedules/cpu/template_util.h"

#include "taskmap/ir/functor.h"

namespace taskmap::schedules {

ir::Expr replace_reductions(const ir::Expr& value, const ir::Expr& with) {
  struct Replacer : ir::IRMutator {
    ir::Expr with;
    ir::Expr mutate_Reduce(const ir::ReduceNode*, const ir::Expr&) override { return with; }
  } replacer;
  replacer.with = with;
  return replacer.mutate(value);
}

}  // namespace taskmap::schedules
