// Split-k for the CUDA matmul templates (split_k.h): the workspace and the kernel that sums it.
#include "schedules/cuda/split_k.h"

#include <string>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

constexpr int64_t kSumThreads = 256;

// out[the element] = epilogue(sum).
void store_epilogue(KernelBuilder& kb, const Task& task, const GemmForm& f, const Expr& batch,
                    const Expr& row, const Expr& col, const Expr& sum) {
  std::vector<std::pair<Var, Expr>> map = gemm_bindings(f, batch, row, col, {});
  map.emplace_back(f.sum, sum);
  kb.store(task.output_params()[0], gemm_output_index(f, map), substitute(f.epilogue, map));
}

// out[b, m, n] = epilogue(Σ_part partials[part, b, m, n]): a thread per element, consecutive
// threads along N (coalesced reads of each range and writes of the output).
Function split_k_sum_kernel(const Task& task, const GemmForm& f, const SplitK& split) {
  const int64_t elements = f.batch_size * f.m_size * f.n_size;
  KernelBuilder kb(kernel_name(task.name()) + "_sum");
  kb.params(matmul_params(task, split));
  kb.attr("task", task.name());
  kb.attr("schedule", "split-k sum of " + std::to_string(split.splits) + " ranges");
  kb.attr("cuda.block_dim", std::to_string(kSumThreads));
  kb.attr("cuda.grid_dim", std::to_string(ceil_div(elements, kSumThreads)));
  const Expr thread = cast(i64, call("thread_idx_x", {}, Type(i32)));
  const Expr block = cast(i64, call("block_idx_x", {}, Type(i32)));
  kb.let("w", block * kSumThreads + thread, [&](const Var& w) {
    kb.if_then(w < elements, [&] {
      kb.for_mapping(TaskMapping::spatial({f.batch_size, f.m_size, f.n_size}), w,
                     [&](const Index& bmn) {
                       const Var sum = kb.scalar("sum", f32, float_imm(0.0));
                       kb.for_range("part", split.splits, LoopHint::unroll(), [&](const Var& p) {
                         kb.assign(sum, sum + load(split.partials, {p, bmn[0], bmn[1], bmn[2]}));
                       });
                       store_epilogue(kb, task, f, bmn[0], bmn[1], bmn[2], sum);
                     });
    });
  });
  return kb.build();
}

}  // namespace

SplitK plan_split_k(const GemmForm& f, int64_t steps, int64_t splits) {
  TM_ASSERT(steps > 0 && splits > 0) << "split-k of " << steps << " steps in " << splits;
  SplitK split;
  split.steps_per_split = ceil_div(steps, splits);
  split.splits = ceil_div(steps, split.steps_per_split);
  if (split.splits > 1)
    split.partials =
        tensor_input("partials", f32, {split.splits, f.batch_size, f.m_size, f.n_size});
  return split;
}

std::vector<Var> matmul_params(const Task& task, const SplitK& split) {
  std::vector<Var> params = task.params();
  if (split.partials.defined()) params.push_back(split.partials);
  return params;
}

void store_tile_sum(KernelBuilder& kb, const Task& task, const GemmForm& f, const SplitK& split,
                    const Expr& part, const Expr& batch, const Expr& row, const Expr& col,
                    const Expr& sum) {
  if (split.partials.defined()) {
    kb.store(split.partials, {part, batch, row, col}, sum);
  } else {
    store_epilogue(kb, task, f, batch, row, col, sum);
  }
}

Module matmul_module(const Task& task, const GemmForm& f, const SplitK& split, Function kernel) {
  Module module{kernel_name(task.name()), {std::move(kernel)}};
  if (split.partials.defined()) {
    module.functions.push_back(split_k_sum_kernel(task, f, split));
    module.workspace.push_back(split.partials);
  }
  return module;
}

}  // namespace taskmap::schedules
