#pragma once
// The kernel of the tensor-core matmul template (matmul_mma_cuda.h, which describes it): a
// config's tiles, cp.async stages, ldmatrix fragments and mma.sync products for one problem.
#include "schedules/cuda/mma_operands.h"
#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/schedules/matmul_mma_cuda.h"

namespace taskmap::schedules {

// The template's module for `task` (of form `f`, its factors read as `operands` says) with
// config `c`: one kernel, and with split-k the kernel that adds the ranges. A config whose tiles
// the threads or the mma shape do not divide is a UserError naming it.
ir::Module build_matmul_mma(const ir::Task& task, const GemmForm& f, const MmaOperands& operands,
                            const MatmulMmaConfig& c);

}  // namespace taskmap::schedules
