#pragma once
// The packed CPU GEMM template (hidet-design.md §6.2, BLIS-style blocking). It implements every
// task that is a *contraction*: one output whose value is an expression of one f32 sum over
// products of two factors,
//
//   out[axes] = epilogue(sum_k  A(batch, m, k) · B(batch, k, n))
//
// where the output axes split into m axes (read by A only), n axes (read by B only) and batch
// axes (read by both). MatMul (any batch / broadcast), Gemm (transposes, alpha, bias) and Conv
// (m = output channel, n = batch × output pixels, k = channel × window, the padding a select
// on B) all take this form, so one template serves them: pad + im2col become the packing of B,
// and bias / scale become the epilogue.
//
//   for t in spatial(batch, tiles_m, tiles_n) over cores:          one tile per task
//     c_tile: f32[tile_m, tile_n]                                  stays in L2
//     for kb in range(K / block_k):
//       pack A[tile, kb] -> a_pack [tile_m / MR][block_k][MR]      (or [block_k][tile_m])
//       pack B[kb, tile] -> b_pack [tile_n / NR][block_k][NR]      zero-padded edges
//       for (p, q) in repeat(tile_n / NR, tile_m / MR):            b panel stays in L1
//         acc: f32x16[MR][NR / 16] in registers                    MR · NR/16 accumulators
//         for k in range(block_k): acc[i][v] += a_pack[p][k][i] · b_pack[q][k][v]
//                                  (B packed ahead: also ask for a line of the next b panel)
//         c_tile[...] (+)= acc                     out[...] = epilogue(acc) in the last k
//                                                  block, where the output runs along n
//     for (i, j) in tile: out[unravel(i, j)] = epilogue(c_tile[i, j])      (where it does not)
//
// A reaches the micro-kernel one of three ways: packed once at compile time (weights), read in
// place from its tensor (a MatMul's activations: rows that run along k need no packing), or
// packed per call, along m with vector copies where it reads along m (a convolution's image
// when the weights are B) and in MR-wide panels otherwise. A ragged tile skips the micro-panels
// past M and N, and its epilogue runs to the edge with constant bounds. A padded image packed as
// rows along k skips the k blocks in which a panel holds only padding (a border row's pixels
// against the window row outside the image), as a direct convolution skips those taps.
//
// The knobs come from the target: the vector width gives NR, the register count MR, the L1 size
// block_k, the L2 size the tile. Where the weights (B) are packed ahead, the k blocks grow to what
// L2 holds instead: fewer round trips of the c tile. Such weights come from memory on every run
// of a model, so the micro-kernel prefetches the next b panel into L2 while it computes with
// this one, its lines spread evenly over the tile's a panels. Tasks read only through loads, so
// post-scheduling fusion can inline a prologue into the packing and an epilogue into the final
// store.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct GemmConfig {
  int64_t micro_m = 6;        // MR: rows of the register tile
  int64_t micro_n = 64;       // NR: columns of the register tile, a multiple of `lanes`
  int64_t lanes = 16;         // f32 lanes of one vector register
  int64_t block_k = 128;      // K step: the b panel (block_k × NR) stays in L1
  int64_t tile_m = 96;        // most rows of one task (a multiple of MR)
  int64_t tile_n = 480;       // most columns of one task (a multiple of NR)
  int64_t tile_area = 65536;  // most elements of a task's c tile (it stays in L2)
  std::string str() const;
};

// One good configuration from the hardware (vector width, registers, cache sizes).
GemmConfig default_gemm_config(const CpuTarget& target);

// How one problem is cut into per-core tasks.
struct GemmTiling {
  int64_t tile_m = 0, tile_n = 0;     // rows and columns of one task (multiples of MR / NR)
  int64_t tiles_m = 0, tiles_n = 0;   // tasks along M and N (times the batch)
  int64_t block_k = 0, k_blocks = 0;  // K steps; block_k · k_blocks >= K
  int64_t padded_k() const { return block_k * k_blocks; }
};

// A B factor that reads one f32 tensor at `offset + col` (col the flat GEMM column: the n axes
// step the tensor with their own row-major strides) where `inside` holds, and is 0 elsewhere.
// Its vectors along n are then single masked loads: a 1×1 or a stride-1 convolution reads a
// shifted image for each window position, the zero padding being the lanes `inside` masks off.
//
// Generalized (offset_factor), the n axes may step the tensor in any linear way (a stride-2
// window): `position` is then their part of the flat position, and vectors along n are masked
// gathers at offset + position, the positions of a tile tabulated once.
struct ContiguousFactor {
  ir::Var tensor;
  ir::Expr offset;    // over the batch and k axes
  ir::Expr inside;    // over the n axes and the inner k axes; undefined when always true
  ir::Expr position;  // over the n axes; undefined when it is `col` itself (contiguous)
};

// Whether f's B factor reads along memory as the innermost n axis steps (vectors of it are
// loads, not gathers): a stride-2 window or a transposed operand does not.
bool b_runs_along_n(const GemmForm& f);

// Whether f's A factor is a bare load of a tensor whose rows run along the one reduction axis
// (a MatMul's activations): the micro-kernel then broadcasts straight from the tensor, and A
// needs no packing.
bool a_readable_in_place(const GemmForm& f);

// Whether f's A factor reads along memory as the innermost m axis steps.
bool a_runs_along_m(const GemmForm& f);

// Whether f's A factor (a load, perhaps under a padding select) reads along memory as its last
// reduction axis steps: a channels-last image, whose channels are that axis.
bool a_runs_along_k(const GemmForm& f);
// The padding condition of f's A factor (a load selected against 0: a padded image) where it
// does not read the last reduction axis, so that a run of channels shares it; undefined
// otherwise.
ir::Expr a_run_padding(const GemmForm& f);

// Whether A is an unpadded window of an image whose rows run along the last reduction axis (a
// channels-last convolution without padding): the micro-kernel can read it in place by walking
// the window (GemmPlan::a_window).
bool window_readable_in_place(const GemmForm& f);

// The contiguous form of f's B factor, or nothing.
std::optional<ContiguousFactor> contiguous_b(const GemmForm& f);

// The same for factor A (`side` 0, `col` then standing for the flat GEMM row) or B (1).
std::optional<ContiguousFactor> contiguous_factor(const GemmForm& f, int side);

// The factor as an offset over the batch and k axes plus a position over the m (A) or n (B)
// axes, contiguous or not, or nothing when its flat position does not split so.
std::optional<ContiguousFactor> offset_factor(const GemmForm& f, int side);

// Everything gemm_cpu needs: the form oriented so that the vectorized side wastes the least,
// the config, the tiling, and which operands arrive packed.
struct GemmPlan {
  GemmForm form;
  GemmConfig config;
  GemmTiling tiling;
  // A packed operand is read from an extra kernel parameter (A before B, after the task's
  // params) holding gemm_pack_task's output, instead of being packed by every call: weights
  // are packed once, at compile time.
  bool a_packed = false, b_packed = false;
  // Set when A is packed neither ahead nor per call: the micro-kernel reads it in place
  // (a_readable_in_place). gemm_factor_constant A factors are packed ahead instead.
  bool a_in_place = false;
  // Set when A is an unpadded window of a channels-last image (a bare load, several reduction
  // axes, its channels last) whose k blocks hold whole runs of the window's inner axes: the
  // micro-kernel then walks the block's window loops and reads each row's pixels in place,
  // where packing would copy every element of the image once per window position.
  bool a_window = false;
  // Set when A is packed per call and reads along its innermost m axis (the image of a
  // convolution oriented along its output channels): the packing copies rows of the tile along
  // m, one per k step, instead of gathering MR-wide panels along k.
  bool a_along_m = false;
  // Set when A is packed along m, padded and contiguous (a stride-1 window of the image): its
  // rows are then masked vector loads, as for b_contiguous.
  std::optional<ContiguousFactor> a_contiguous;
  // Set (> 0) when A is packed per call as rows along k, [tile_m][block_k], the micro-kernel
  // reading them as it reads an A in place: a_runs_along_k holds, and runs of this many k steps
  // (which divides block_k and the last reduction extent) read consecutive elements of a row,
  // so each is one vector loop. A channels-last image packs so instead of in panels one element
  // at a time.
  int64_t a_rows_run = 0;
  // Set when B is padded and contiguous: the per-call packing of B then copies whole vectors
  // with masked loads, the masks of a tile computed once.
  std::optional<ContiguousFactor> b_contiguous;
};

// `constant_inputs[i]` says whether task input i is a constant (a weight), which may decide the
// orientation: packing a constant costs nothing per call.
std::optional<GemmPlan> plan_gemm(const ir::Task& task, const CpuTarget& target,
                                  const std::vector<bool>& constant_inputs = {});

// The positions in task.inputs() of the tensors that factor A (`side` 0) or B (1) reads.
std::vector<int> gemm_factor_inputs(const ir::Task& task, const GemmPlan& plan, int side);

// Whether factor A (`side` 0) or B (1) reads only constant inputs (`constant_inputs` as for
// plan_gemm), so gemm_pack_task can pack it once at compile time (batch by batch if batched).
bool gemm_factor_constant(const ir::Task& task, const GemmPlan& plan, int side,
                          const std::vector<bool>& constant_inputs);

// The injective task that packs factor A (`side` 0) into [panels][padded K][MR] or B (1) into
// [panels][padded K][NR], zero-padded, with a leading batch axis where the form has a batch; its
// inputs are gemm_factor_inputs().
ir::Task gemm_pack_task(const ir::Task& task, const GemmPlan& plan, int side);

// The kernel. Its parameters are task.params(), then the packed A and B if the plan says so.
ir::Function gemm_cpu(const ir::Task& task, const GemmPlan& plan);

}  // namespace taskmap::schedules
