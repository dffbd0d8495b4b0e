// The tensor-core matmul CUDA template (matmul_mma_cuda.h): its configs and their choice, and
// the entry points; which factors it can read is mma_operands.h, its kernel mma_kernel.h.
#include "taskmap/schedules/matmul_mma_cuda.h"

#include <string>
#include <utility>
#include <vector>

#include "schedules/cuda/mma_kernel.h"
#include "schedules/cuda/mma_operands.h"
#include "schedules/cuda/tile_choice.h"

namespace taskmap::schedules {

using namespace ir;

std::string MatmulMmaConfig::str() const {
  return std::to_string(block_m) + "x" + std::to_string(block_n) + "x" + std::to_string(block_k) +
         ", warps " + std::to_string(warps_m) + "x" + std::to_string(warps_n) + ", " +
         std::to_string(stages) + " stages" +
         (split_k > 1 ? ", split-k " + std::to_string(split_k) : "");
}

std::vector<MatmulMmaConfig> matmul_mma_space() {
  return {
      {128, 128, 32, 2, 2, 3},  // warp tiles 64 x 64: 128 accumulators a thread
      {64, 128, 32, 2, 2, 3},   // 32 x 64
      {64, 64, 32, 2, 2, 3},    // 32 x 32
      {32, 64, 32, 1, 2, 3},    // 32 x 32, 64 threads
      {32, 32, 32, 2, 1, 3},    // 16 x 32
  };
}

MatmulMmaConfig choose_matmul_mma_config(const GemmForm& form, const CudaTarget& target,
                                         bool b_staged) {
  std::vector<MatmulMmaConfig> space = matmul_mma_space();
  // A staged B's registers on top of a 64 x 64 warp tile's 128 accumulators spill (ptxas,
  // sm_90, f16: 255 registers and 40 bytes of stack).
  if (b_staged) space.erase(space.begin());
  return largest_tile_filling_the_sms(space, form, target, kMmaMinSplitK, [](const auto& c) {
    return std::pair{c.block_m, c.block_n};
  });
}

std::optional<Module> matmul_mma_cuda(const Task& task, const CudaTarget& target, bool tf32) {
  if (target.sm < 80) return {};
  std::optional<GemmForm> form = analyze_gemm(task, GemmOutputs::any_float);
  std::optional<MmaOperands> operands = form ? mma_operands(*form, tf32) : std::nullopt;
  if (!operands) return {};
  return build_matmul_mma(task, *form, *operands,
                          choose_matmul_mma_config(*form, target, operands->b_staged));
}

std::optional<Module> matmul_mma_cuda(const Task& task, const MatmulMmaConfig& config, bool tf32) {
  std::optional<GemmForm> form = analyze_gemm(task, GemmOutputs::any_float);
  std::optional<MmaOperands> operands = form ? mma_operands(*form, tf32) : std::nullopt;
  if (!operands) return {};
  return build_matmul_mma(task, *form, *operands, config);
}

}  // namespace taskmap::schedules
