#pragma once
// The tensor-core matmul CUDA template (hidet-design.md §6.3, the f16 template): contractions
// of f16 or bf16 matrices (MatMul, batched, Gemm) with f32 accumulation on sm_80+, through
// `mma.sync.m16n8k16`, fed by `ldmatrix` from shared memory that multi-stage `cp.async` fills.
//
// A block computes a BM × BN tile; its threads own the accumulators through the C fragment
// mapping of the PTX ISA lifted to the block,
//   c_map = spatial(block warps) * repeat(warp's mma tiles) * repeat(2, 1) * spatial(8, 4)
//           * repeat(1, 2)
// (the last three: which elements of a 16 × 8 tile each lane holds), and the accumulator
// registers mirror c_map, so a tile's four values are consecutive, in the order mma.sync
// takes them. The K loop runs in steps of BK through `stages` shared-memory buffers:
//
//   for s < stages - 1: cp.async tile s into buffer s; commit
//   for kb < K / BK:
//     wait until tile kb has landed; sync         (one barrier per step)
//     cp.async tile kb + stages - 1 into the buffer step kb - 1 used; commit
//     for each 16-wide k slice: ldmatrix the warp's A and B fragments, mma.sync every tile
//   for (i, j) in c_map on t: out[...] = epilogue(acc[i, j])
//
// Shared rows are stored with their 16-byte chunks rotated by the row (a swizzle), so that
// the eight rows one ldmatrix phase reads fall in distinct banks. B may be stored along N
// (ldmatrix .trans) or along K (a transposed B, as Gemm's transB).
//
// The copies take the factors' addresses, so A must be a plain load of an input whose 16-byte
// chunks (8 elements) along K are contiguous and aligned, and so may B, along N or K; a prologue
// fused into a copied factor falls back to its own kernel (fusion.h). A B that cannot be copied
// so (an implicit-GEMM convolution's windows, a 14 × 14 image's planes, a stride), reading only
// inputs of A's type, is staged: each thread evaluates its chunks of the next step into
// registers before the step's products and stores them to shared memory after, in the layout a
// copied B along N has (so prologues fuse into it). The epilogue is fused as usual.
//
// TF32 (opt-in, as PyTorch's allow_tf32): f32 contractions through `mma.sync.m16n8k8` on
// operands rounded to tf32 (10 mantissa bits, cvt.rna) with f32 accumulation. The tiles keep
// their bytes (chunks of 4 f32, BK halved); A and a B along K load by ldmatrix as for 16-bit
// types (a lane's 32-bit word is the element the tf32 fragment wants), a B along N by two
// shared loads a lane, ldmatrix transposing 16-bit elements only.
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct MatmulMmaConfig {
  // block_k counts 16-bit elements: a tf32 tile spans block_k / 2 f32 along K (the same bytes).
  int64_t block_m = 128, block_n = 128, block_k = 32;
  int64_t warps_m = 2, warps_n = 2;
  int64_t stages = 3;   // shared-memory buffers the cp.async pipeline cycles through
  int64_t split_k = 1;  // blocks per tile along K (split_k.h), set by the choice

  int64_t warp_m() const { return block_m / warps_m; }
  int64_t warp_n() const { return block_n / warps_n; }
  int64_t threads() const { return warps_m * warps_n * 32; }
  int64_t shared_bytes() const { return stages * (block_m + block_n) * block_k * 2; }
  // "128x128x32, warps 2x2, 3 stages[, split-k 3]".
  std::string str() const;
};

// The schedule space, largest tile first: 128 × 128 (warp tiles 64 × 64), 64 × 128, 64 × 64,
// 32 × 64 and 32 × 32.
std::vector<MatmulMmaConfig> matmul_mma_space();

// The space's largest tile that gives at least one block per SM, splitting K into ranges of at
// least kMmaMinSplitK where its tiles alone are too few (tile_choice.h); else its smallest.
// With a staged B (below) the 128 × 128 tile is left out: its registers would spill.
constexpr int64_t kMmaMinSplitK = 512;
MatmulMmaConfig choose_matmul_mma_config(const GemmForm& form, const CudaTarget& target,
                                         bool b_staged = false);

// The template with the chosen config, or nothing when the task is not an f16 / bf16 (with
// `tf32`, also f32) contraction whose factors the copies can read (see above) or the target is
// older than sm_80.
std::optional<ir::Module> matmul_mma_cuda(const ir::Task& task, const CudaTarget& target,
                                          bool tf32 = false);
// With a given config; nothing when the task does not qualify. A config whose tiles the
// threads or the mma shape do not divide is a UserError naming it.
std::optional<ir::Module> matmul_mma_cuda(const ir::Task& task, const MatmulMmaConfig& config,
                                          bool tf32 = false);

}  // namespace taskmap::schedules
