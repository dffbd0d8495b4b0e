#include "schedules/cpu/template_util.h"

#include "taskmap/ir/functor.h"

namespace taskmap::schedules {

ir::Expr combine_reduction(ir::ReduceOp op, const ir::Expr& acc, const ir::Expr& t) {
  using ir::select;
  if (op != ir::ReduceOp::max && op != ir::ReduceOp::min) return acc + t;
  const bool is_max = op == ir::ReduceOp::max;
  if (acc.dtype().is_vector()) return is_max ? ir::max(acc, t) : ir::min(acc, t);
  return select(ir::ne(acc, acc), acc, select(is_max ? acc > t : acc < t, acc, t));
}

ir::Expr replace_reductions(const ir::Expr& value, const ir::Expr& with) {
  struct Replacer : ir::IRMutator {
    ir::Expr with;
    ir::Expr mutate_Reduce(const ir::ReduceNode*, const ir::Expr&) override { return with; }
  } replacer;
  replacer.with = with;
  return replacer.mutate(value);
}

}  // namespace taskmap::schedules
