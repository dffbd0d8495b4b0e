#pragma once
// Runs scheduled CUDA modules on the host, through the generated CUDA source itself: the source
// is compiled by the host compiler with host_cuda_shim.h in front (blocks one after another, the
// threads of a block as host threads), so CI checks what CUDA templates compute without a GPU.
// Small problems only: every GPU thread is a host thread.
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"

#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::testing {

// Lowers `scheduled`, generates its CUDA source for `target` and runs its kernels in order, each
// on the grid and block of its attrs. `buffers`: one host pointer per kernel parameter (tensor
// parameters only). A failed kernel assertion is a UserError with its message.
void run_cuda_on_host(const ir::Module& scheduled, const CudaTarget& target,
                      const std::vector<void*>& buffers);

// Runs `scheduled` (a CUDA module for `task`) on the emulator and the task's CPU kernel
// (auto-scheduled) on the same random inputs, the emulated outputs poisoned with NaN first, and
// expects every output to agree.
void expect_emulated_matches_cpu(const ir::Task& task, const ir::Module& scheduled,
                                 const CudaTarget& target, const std::string& what);

}  // namespace taskmap::testing
