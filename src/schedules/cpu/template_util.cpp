#include "schedules/cpu/template_util.h"

#include "taskmap/arith/simplify.h"
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

ir::Expr fold_partials(lang::KernelBuilder& kb, const ir::Var& part, int64_t lanes, int64_t vectors,
                       ir::ReduceOp op) {
  const ir::DType vec = ir::f32.with_lanes(static_cast<int>(lanes));
  auto vector_at = [&](int64_t v) {
    return ir::call("vec_load", {ir::address(part, {ir::int_imm(v * lanes)})}, vec);
  };
  ir::Var folded = kb.scalar("folded", vec, vector_at(0));
  for (int64_t v = 1; v < vectors; ++v)
    kb.assign(folded, combine_reduction(op, folded, vector_at(v)));
  return ir::call(op == ir::ReduceOp::max ? "vec_reduce_max" : "vec_reduce_add", {folded}, ir::f32);
}

std::vector<std::vector<ir::Expr>> window_positions(const std::vector<int64_t>& extents) {
  int64_t count = 1;
  for (int64_t e : extents) count *= e;
  std::vector<std::vector<ir::Expr>> positions;
  for (int64_t k = 0; k < count; ++k) {
    std::vector<ir::Expr> index(extents.size());
    int64_t rest = k;
    for (size_t d = extents.size(); d-- > 0;) {
      index[d] = ir::int_imm(rest % extents[d]);
      rest /= extents[d];
    }
    positions.push_back(index);
  }
  return positions;
}

ir::Expr RangedEmitter::simplified(const ir::Expr& e) const {
  return arith::simplify(e, &bounds_);
}

void RangedEmitter::loop(const std::string& name, int64_t extent, ir::LoopHint hint,
                         const std::function<void(const ir::Var&)>& body) {
  kb_.for_range(name, extent, hint, [&](const ir::Var& v) {
    bounds_.bind_range(v, extent);
    body(v);
    bounds_.unbind(v);
  });
}

void RangedEmitter::let(const std::string& name, const ir::Expr& value,
                        const std::function<void(const ir::Var&)>& body) {
  kb_.let(name, simplified(value), [&](const ir::Var& v) {
    bounds_.bind(v, bounds_.bound(value));
    body(v);
    bounds_.unbind(v);
  });
}

void RangedEmitter::for_mapping(const ir::TaskMapping& mapping, const ir::Expr& worker,
                                const std::function<void(const ir::Index&)>& body,
                                std::vector<std::string> names) {
  kb_.for_mapping(
      mapping, worker,
      [&](const ir::Index& task) {
        for (size_t d = 0; d < task.size(); ++d)
          if (task[d].as<ir::VarNode>())
            bounds_.bind_range(ir::Var::from(task[d]), mapping.task_shape()[d]);
        body(task);
        for (const ir::Expr& t : task)
          if (t.as<ir::VarNode>()) bounds_.unbind(ir::Var::from(t));
      },
      std::move(names));
}

}  // namespace taskmap::schedules
