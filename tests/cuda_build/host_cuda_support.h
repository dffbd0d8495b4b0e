#pragma once
// Runs scheduled CUDA modules on the host, through the generated CUDA source itself: the source
// is compiled by the host compiler with host_cuda_shim.h in front (blocks one after another, the
// threads of a block as host threads), so CI checks what CUDA templates compute without a GPU.
// Small problems only: every GPU thread is a host thread.
#include <string>
#include <vector>

#include "taskmap/build/cuda_compiler.h"
#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::testing {

// Lowers `scheduled`, generates its CUDA source for `target` and runs its kernels in order, each
// on the grid and block of its attrs. `buffers`: one host pointer per kernel parameter (tensor
// parameters only) but the module's workspace, which this allocates (NaN-poisoned). A failed kernel
// assertion is a UserError with its message.
void run_cuda_on_host(const ir::Module& scheduled, const CudaTarget& target,
                      const std::vector<void*>& buffers);

// The rtol of an f16 / bf16 kernel against the CPU's: f16 keeps 11 significant bits, bf16 8; the
// sums are f32 on both sides, so the outputs differ by the rounding of the last bit at most.
inline double narrow_rtol(ir::DType dtype) {
  return dtype == ir::bf16 ? 1e-2 : 2e-3;
}

// Runs `scheduled` (a CUDA module for `task`) on the emulator and the task's CPU kernel
// (auto-scheduled) on the same random inputs of the parameters' dtypes, the emulated outputs
// poisoned with NaN first, and expects every output to agree within `rtol` (expect_close).
void expect_emulated_matches_cpu(const ir::Task& task, const ir::Module& scheduled,
                                 const CudaTarget& target, const std::string& what,
                                 double rtol = 1e-5);

// The accesses in CUDA `source` to the named register arrays whose index is not a literal
// ("acc[i / 16 % 4 * 32]"): such an array lives in local memory, not in registers.
std::vector<std::string> variable_register_indices(const std::string& source,
                                                   const std::vector<std::string>& arrays);

// Builds `jobs` with NVRTC for sm_80 and sm_90 (through the cache) and expects a non-empty cubin
// without warnings for each.
void expect_cubins_without_warnings(const std::vector<build::CudaCompileJob>& jobs);

}  // namespace taskmap::testing
