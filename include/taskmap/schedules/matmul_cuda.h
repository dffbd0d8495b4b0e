#pragma once
// The SIMT matmul CUDA template (hidet-design.md §6.1: the paper's f32 template on CUDA cores).
// It implements every task that is a contraction (gemm_form.h): MatMul (batched too), Gemm
// (transposes, alpha, bias) and Conv as an implicit GEMM, whose pad + im2col is the B factor's
// own expression, read tile by tile and never materialized.
//
// A block computes a BM × BN tile of one batch; its threads own the tile's elements through
//   thread_map = spatial(block warps) * repeat(warp repeat) * spatial(warp layout)
//                * repeat(thread tile)
// (a warp's 32 lanes laid out 4 × 8, each lane a few thread tiles apart, so that the lanes of a
// warp read few distinct shared-memory words). K goes in steps of BK through shared memory,
// double-buffered:
//
//   acc: f32 registers mirroring thread_map; a_smem f32[2][BK][BM], b_smem f32[2][BK][BN]
//   regs <- tile 0 (global; 0 outside the problem); smem[0] <- regs; sync
//   for kb in range(K / BK):
//     if kb + 1 < steps: regs <- tile kb + 1        (the loads are in flight during the math)
//     for kk in range(BK):                           (unrolled)
//       a_frag <- a_smem[kb % 2][kk][rows of thread]; b_frag <- b_smem[kb % 2][kk][cols]
//       for (i, j) in thread_map on t: acc[i, j] += a_frag[i] · b_frag[j]
//     if kb + 1 < steps: smem[(kb + 1) % 2] <- regs
//     sync                                            (one barrier per k step)
//   for (i, j) in thread_map on t: out[...] = epilogue(acc[i, j])   (inside the problem)
//
// The tile size is the only knob a problem chooses, from the target: the largest tile whose
// blocks still fill the SMs (batch-1 inference has few rows), with K split across blocks when
// the tiles alone are too few (split_k.h: partial sums, then a kernel that adds them and applies
// the epilogue), else the smallest. Factors are
// read only through loads, so post-scheduling fusion inlines prologues into the tile loads and
// epilogues into the final store.
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct MatmulCudaConfig {
  int64_t block_warps_m = 4, block_warps_n = 2;  // warps of a block
  int64_t warp_repeat_m = 2, warp_repeat_n = 2;  // thread tiles of a lane, warp-tile apart
  int64_t warp_layout_m = 4, warp_layout_n = 8;  // the lanes of a warp (32)
  int64_t thread_tile_m = 4, thread_tile_n = 4;  // consecutive elements of one lane
  int64_t block_k = 8;                           // K step through shared memory
  int64_t split_k = 1;  // blocks per tile along K (split_k.h), set by the choice below

  int64_t block_m() const { return block_warps_m * warp_repeat_m * warp_layout_m * thread_tile_m; }
  int64_t block_n() const { return block_warps_n * warp_repeat_n * warp_layout_n * thread_tile_n; }
  int64_t threads() const { return block_warps_m * block_warps_n * 32; }
  // "128x128x8, warps 4x2, repeat 2x2, lanes 4x8, thread 4x4[, split-k 3]".
  std::string str() const;
};

// The schedule space, largest tile first: 128 × 128 (256 threads, 64 accumulators each),
// 64 × 128, 32 × 64 and 16 × 32 (128 threads).
std::vector<MatmulCudaConfig> matmul_cuda_space();

// The space's largest tile that gives at least one block per SM, splitting K into ranges of at
// least kSimtMinSplitK where its tiles alone are too few (tile_choice.h); else its smallest.
constexpr int64_t kSimtMinSplitK = 256;
MatmulCudaConfig choose_matmul_cuda_config(const GemmForm& form, const CudaTarget& target);

// The template with the chosen config, or nothing when `task` is not a contraction
// (analyze_gemm, f32 or f16 / bf16 outputs).
std::optional<ir::Module> matmul_cuda(const ir::Task& task, const CudaTarget& target);
// The template with a given config (a config that breaks the load mappings' divisibility is a
// UserError naming it); requires analyze_gemm(task).
ir::Module matmul_cuda(const ir::Task& task, const MatmulCudaConfig& config);

}  // namespace taskmap::schedules
