// Symbolic lowering of a task mapping: the loops that enumerate one worker's tasks and the task
// coordinates as index expressions of the worker and the loop variables.
//
// Over the flat factor chain f1 * ... * fk, factor j owns the worker digits below the workers of
// the factors after it (W_after) and the task digits below their extents (T_after), so
//   spatial dim i of fj:  worker / (stride_i · W_after) % n_i   (no `% n_i` on the slowest digit)
//   repeat dim i of fj:   a fresh loop variable of extent n_i, nested in rank order
//   task_i = Σ_j coord_ij · T_after_ij, outer factors' loops enclosing inner factors' loops.
// This is the definition of composition unrolled over the chain (w / W_i and w % W_i applied
// repeatedly). Dims of extent 1 contribute the constant 0 and no loop. Guarantees: for every
// worker in [0, num_workers), enumerating the loops in order yields tasks(worker) in order.
#include "ir/mapping/index_arith.h"
#include "ir/mapping/mapping_node.h"
#include "taskmap/error.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/mapping.h"

#include <algorithm>
#include <numeric>

namespace taskmap::ir {

TaskMapping::Lowered TaskMapping::lower(const Expr& worker_expr) const {
  TM_ASSERT(defined()) << "lower() of an undefined task mapping";
  TM_USER_CHECK(worker_expr.defined() && worker_expr.dtype().is_int() &&
                !worker_expr.dtype().is_vector())
      << "the worker of task mapping " << str() << " must be a scalar integer";
  // Loop variables are index-typed; the worker joins them in one dtype.
  const Expr worker = cast(index_dtype, worker_expr);

  const size_t rank = node_->task_shape.size();
  const int64_t total_workers = node_->num_workers;
  int64_t workers_after = total_workers;
  std::vector<int64_t> tasks_after = node_->task_shape;
  Lowered lowered;
  lowered.task.assign(rank, int_imm(0));

  for (const MappingFactor& factor : node_->factors) {
    const std::vector<int64_t> strides = factor.strides();
    std::vector<Expr> coord(rank, int_imm(0));
    if (factor.kind == FactorKind::spatial) {
      workers_after /= factor.count();
      for (size_t i = 0; i < rank; ++i) {
        if (factor.shape[i] == 1) continue;
        const int64_t stride = strides[i] * workers_after;
        coord[i] = fold_div(worker, int_imm(stride));
        // The worker is below total_workers, so the slowest digit needs no modulo.
        if (stride * factor.shape[i] != total_workers) {
          coord[i] = fold_mod(coord[i], int_imm(factor.shape[i]));
        }
      }
    } else {
      std::vector<size_t> slowest_first(rank);
      std::iota(slowest_first.begin(), slowest_first.end(), 0);
      std::sort(slowest_first.begin(), slowest_first.end(),
                [&](size_t a, size_t b) { return factor.ranks[a] < factor.ranks[b]; });
      for (size_t i : slowest_first) {
        if (factor.shape[i] == 1) continue;
        Var loop_var = var("r" + std::to_string(lowered.loop_vars.size()));
        lowered.loop_vars.push_back(loop_var);
        lowered.extents.push_back(factor.shape[i]);
        lowered.hints.push_back(factor.hints[i]);
        coord[i] = loop_var;
      }
    }
    for (size_t i = 0; i < rank; ++i) {
      tasks_after[i] /= factor.shape[i];
      lowered.task[i] = fold_add(lowered.task[i], fold_mul(coord[i], int_imm(tasks_after[i])));
    }
  }
  return lowered;
}

}  // namespace taskmap::ir
