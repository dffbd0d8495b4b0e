#pragma once
// Split-k for the CUDA matmul templates. When a problem has too few tiles to give every SM a
// block (batch-1 inference: M is a sequence of 128 tokens, or a feature map's few positions, while
// K runs to thousands), K is split into ranges of whole k steps, one block per tile and range.
// Each block writes its tile's partial sums into a workspace [splits, batch, M, N] of f32, and a
// second kernel, a thread per output element, adds the element's partial sums in order and
// applies the epilogue, so post-scheduling fusion rewrites that kernel's stores as it rewrites
// any template's, and the prologues into the first kernel's tile loads.
#include <cstdint>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/gemm_form.h"

namespace taskmap::schedules {

struct SplitK {
  int64_t splits = 1;           // blocks per tile along K
  int64_t steps_per_split = 0;  // k steps each block takes
  ir::Var partials;             // the workspace; undefined when K is not split
};

// `steps` k steps in at most `splits` ranges of whole steps, none empty (fewer ranges when the
// steps do not divide: 10 steps in 4 ranges are 3 ranges of 4, the last ragged).
SplitK plan_split_k(const GemmForm& f, int64_t steps, int64_t splits);

// The parameters of the template's kernels: the task's, then the workspace if any.
std::vector<ir::Var> matmul_params(const ir::Task& task, const SplitK& split);

// Stores a tile element's sum: its epilogue into the task's output, or with a split the partial
// sum into the workspace at range `part`.
void store_tile_sum(lang::KernelBuilder& kb, const ir::Task& task, const GemmForm& f,
                    const SplitK& split, const ir::Expr& part, const ir::Expr& batch,
                    const ir::Expr& row, const ir::Expr& col, const ir::Expr& sum);

// The template's module: its kernel, then with a split the kernel that sums the ranges (and the
// workspace they share).
ir::Module matmul_module(const ir::Task& task, const GemmForm& f, const SplitK& split,
                         ir::Function kernel);

}  // namespace taskmap::schedules
