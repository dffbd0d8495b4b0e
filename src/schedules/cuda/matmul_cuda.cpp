// The SIMT matmul CUDA template (matmul_cuda.h): task mappings for the threads' tiles, shared
// memory double-buffered along K, registers mirroring the mappings.
#include "taskmap/schedules/matmul_cuda.h"

#include <string>

#include "schedules/cuda/split_k.h"
#include "schedules/cuda/tile_choice.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

// The tile loads spread a tile over all threads: A's tile as (row, k) tasks with consecutive
// threads along k, B's as (k, column) tasks with consecutive threads along the columns.
TaskMapping a_load_mapping(const MatmulCudaConfig& c) {
  const int64_t rows_per_pass = c.threads() / c.block_k;
  return lang::repeat({c.block_m() / rows_per_pass, 1}, {LoopHint::unroll(), LoopHint::unroll()}) *
         lang::spatial({rows_per_pass, c.block_k});
}
TaskMapping b_load_mapping(const MatmulCudaConfig& c) {
  const int64_t rows_per_pass = c.threads() / c.block_n();
  return lang::repeat({c.block_k / rows_per_pass, 1}, {LoopHint::unroll(), LoopHint::unroll()}) *
         lang::spatial({rows_per_pass, c.block_n()});
}

// block warps × warp repeat × warp layout × thread tile: the whole tile's tasks of a thread,
// or (`rows` / `cols` false) only its first task along that side, for the fragment loads.
TaskMapping thread_mapping(const MatmulCudaConfig& c, bool rows, bool cols) {
  const std::vector<LoopHint> unrolled = {LoopHint::unroll(), LoopHint::unroll()};
  return lang::spatial({c.block_warps_m, c.block_warps_n}) *
         lang::repeat({rows ? c.warp_repeat_m : 1, cols ? c.warp_repeat_n : 1}, unrolled) *
         lang::spatial({c.warp_layout_m, c.warp_layout_n}) *
         lang::repeat({rows ? c.thread_tile_m : 1, cols ? c.thread_tile_n : 1}, unrolled);
}

// A fragment's registers: the tile's shape, the offset following the rows (A's fragment) or
// the columns (B's) that the thread owns and ignoring the other side, so that the tile loop
// indexes a_frag[i, j] and b_frag[i, j] with its own (i, j).
Layout fragment_layout(const MatmulCudaConfig& c, bool rows) {
  auto part = [&](int64_t m, int64_t n) {
    return rows ? Layout::row_major({m}).concat(Layout::local({n}))
                : Layout::local({m}).concat(Layout::row_major({n}));
  };
  return Layout::local({c.block_warps_m, c.block_warps_n}) *
         part(c.warp_repeat_m, c.warp_repeat_n) *
         Layout::local({c.warp_layout_m, c.warp_layout_n}) * part(c.thread_tile_m, c.thread_tile_n);
}

void check_config(const MatmulCudaConfig& c) {
  const int64_t t = c.threads();
  TM_USER_CHECK(c.warp_layout_m * c.warp_layout_n == 32 && c.block_k > 0 && t % c.block_k == 0 &&
                c.block_m() % (t / c.block_k) == 0 && t % c.block_n() == 0 &&
                c.block_k % (t / c.block_n()) == 0)
      << "matmul_cuda config " << c.str()
      << ": a warp's layout must hold 32 lanes, and the threads must split the A tile into "
         "passes along K and the B tile into passes along N";
}

}  // namespace

std::string MatmulCudaConfig::str() const {
  auto pair = [](int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); };
  return pair(block_m(), block_n()) + "x" + std::to_string(block_k) + ", warps " +
         pair(block_warps_m, block_warps_n) + ", repeat " + pair(warp_repeat_m, warp_repeat_n) +
         ", lanes " + pair(warp_layout_m, warp_layout_n) + ", thread " +
         pair(thread_tile_m, thread_tile_n) +
         (split_k > 1 ? ", split-k " + std::to_string(split_k) : "");
}

std::vector<MatmulCudaConfig> matmul_cuda_space() {
  const MatmulCudaConfig large;                                // 128 x 128, 256 threads
  const MatmulCudaConfig wide{2, 2, 2, 2, 4, 8, 4, 4, 8};      // 64 x 128, 128 threads
  const MatmulCudaConfig small{2, 2, 1, 1, 4, 8, 4, 4, 8};     // 32 x 64
  const MatmulCudaConfig smallest{2, 2, 1, 1, 4, 8, 2, 2, 8};  // 16 x 32
  return {large, wide, small, smallest};
}

MatmulCudaConfig choose_matmul_cuda_config(const GemmForm& form, const CudaTarget& target) {
  return largest_tile_filling_the_sms(matmul_cuda_space(), form, target, kSimtMinSplitK,
                                      [](const auto& c) {
                                        return std::pair{c.block_m(), c.block_n()};
                                      });
}

namespace {

Module build_matmul_simt(const Task& task, const GemmForm& f, const MatmulCudaConfig& c) {
  check_config(c);
  const int64_t bm = c.block_m(), bn = c.block_n(), bk = c.block_k, threads = c.threads();
  const int64_t tiles_m = ceil_div(f.m_size, bm), tiles_n = ceil_div(f.n_size, bn);
  const int64_t tiles = f.batch_size * tiles_m * tiles_n;
  const SplitK split = plan_split_k(f, ceil_div(f.k_size, bk), c.split_k);
  const int64_t parts = split.splits, steps = split.steps_per_split, blocks = tiles * parts;
  const bool ragged_m = f.m_size % bm != 0, ragged_n = f.n_size % bn != 0;
  const bool ragged_k = parts * steps * bk != f.k_size;
  const TaskMapping tile = thread_mapping(c, true, true);
  const TaskMapping rows = thread_mapping(c, true, false), cols = thread_mapping(c, false, true);
  const TaskMapping a_load = a_load_mapping(c), b_load = b_load_mapping(c);

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(matmul_params(task, split));
  kb.attr("task", task.name());
  kb.attr("schedule", "matmul_cuda (SIMT, " + c.str() + ")");
  kb.attr("problem", std::to_string(f.m_size) + "x" + std::to_string(f.n_size) + "x" +
                         std::to_string(f.k_size) +
                         (f.batch_size > 1 ? ", batch " + std::to_string(f.batch_size) : ""));
  kb.attr("cuda.block_dim", std::to_string(threads));
  kb.attr("cuda.grid_dim", std::to_string(blocks));
  // (A block index past the grid never happens; the guard states the bound for the analysis.)
  const Var a_smem = kb.shared_tensor("a_smem", f32, {2, bk, bm});
  const Var b_smem = kb.shared_tensor("b_smem", f32, {2, bk, bn});
  const Var acc = kb.register_tensor("acc", f32, Layout::mirror(tile));
  const Var a_frag = kb.register_tensor("a_frag", f32, fragment_layout(c, true));
  const Var b_frag = kb.register_tensor("b_frag", f32, fragment_layout(c, false));
  const Var a_regs = kb.register_tensor("a_regs", f32, Layout::mirror(a_load));
  const Var b_regs = kb.register_tensor("b_regs", f32, Layout::mirror(b_load));

  // `body` inside `if (value < bound)` when `checked`, with the value named for the bounds.
  auto guarded = [&](const std::string& name, const Expr& value, int64_t bound, bool checked,
                     const std::function<void(const Var&)>& body) {
    kb.let(name, value, [&](const Var& v) {
      if (checked) {
        kb.if_then(v < bound, [&] { body(v); });
      } else {
        body(v);
      }
    });
  };

  // The thread index as a variable (and its bound stated), so that the guards bound the indices.
  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
    kb.if_then(t < threads, [&] {
      guarded("block", cast(i64, call("block_idx_x", {}, Type(i32))), blocks, true,
              [&](const Var& block) {
                // The K range (split-k) outermost, then the tile.
                const Expr part = parts > 1 ? block / tiles : int_imm(0);
                const Expr tile_index = parts > 1 ? block % tiles : Expr(block);
                const Expr first_k = part * (steps * bk);
                kb.let("batch", tile_index / (tiles_m * tiles_n), [&](const Var& batch) {
                  kb.let("m0", tile_index / tiles_n % tiles_m * bm, [&](const Var& m0) {
                    kb.let("n0", tile_index % tiles_n * bn, [&](const Var& n0) {
                      kb.for_mapping(tile, t,
                                     [&](const Index& ij) { kb.store(acc, ij, float_imm(0.0)); });

                      // One k step's tiles from global memory into registers, 0 outside the
                      // problem.
                      auto load_tiles = [&](const Expr& k0) {
                        kb.for_mapping(a_load, t, [&](const Index& ik) {
                          kb.store(a_regs, ik, float_imm(0.0));
                          guarded("row", m0 + ik[0], f.m_size, ragged_m, [&](const Var& row) {
                            guarded("k", k0 + ik[1], f.k_size, ragged_k, [&](const Var& k) {
                              kb.store(a_regs, ik,
                                       substitute(f.a, gemm_bindings(f, batch, row, {}, k)));
                            });
                          });
                        });
                        kb.for_mapping(b_load, t, [&](const Index& kj) {
                          kb.store(b_regs, kj, float_imm(0.0));
                          guarded("k", k0 + kj[0], f.k_size, ragged_k, [&](const Var& k) {
                            guarded("col", n0 + kj[1], f.n_size, ragged_n, [&](const Var& col) {
                              kb.store(b_regs, kj,
                                       substitute(f.b, gemm_bindings(f, batch, {}, col, k)));
                            });
                          });
                        });
                      };
                      auto store_tiles = [&](const Expr& buffer) {
                        kb.for_mapping(a_load, t, [&](const Index& ik) {
                          kb.store(a_smem, {buffer, ik[1], ik[0]}, load(a_regs, ik));
                        });
                        kb.for_mapping(b_load, t, [&](const Index& kj) {
                          kb.store(b_smem, {buffer, kj[0], kj[1]}, load(b_regs, kj));
                        });
                      };
                      const Expr sync = call("sync_threads", {});

                      load_tiles(first_k);
                      store_tiles(int_imm(0));
                      kb.evaluate(sync);
                      kb.for_range("kb", steps, [&](const Var& step) {
                        const Expr buffer = step % 2;
                        // (`next` named, so that its guard bounds the k it loads.)
                        kb.let("next", step + 1, [&](const Var& next) {
                          kb.if_then(next < steps, [&] { load_tiles(first_k + next * bk); });
                        });
                        kb.for_range("kk", bk, LoopHint::unroll(), [&](const Var& kk) {
                          kb.for_mapping(rows, t, [&](const Index& ij) {
                            kb.store(a_frag, ij, load(a_smem, {buffer, kk, ij[0]}));
                          });
                          kb.for_mapping(cols, t, [&](const Index& ij) {
                            kb.store(b_frag, ij, load(b_smem, {buffer, kk, ij[1]}));
                          });
                          kb.for_mapping(tile, t, [&](const Index& ij) {
                            kb.store(acc, ij, load(acc, ij) + load(a_frag, ij) * load(b_frag, ij));
                          });
                        });
                        kb.if_then(step + 1 < steps, [&] { store_tiles(1 - buffer); });
                        kb.evaluate(sync);
                      });

                      kb.for_mapping(tile, t, [&](const Index& ij) {
                        guarded("row", m0 + ij[0], f.m_size, ragged_m, [&](const Var& row) {
                          guarded("col", n0 + ij[1], f.n_size, ragged_n, [&](const Var& col) {
                            store_tile_sum(kb, task, f, split, part, batch, row, col,
                                           load(acc, ij));
                          });
                        });
                      });
                    });
                  });
                });
              });
    });
  });
  return matmul_module(task, f, split, kb.build());
}

}  // namespace

// f16 / bf16 contractions too: their factors are widened to f32 where the tiles are loaded and
// the epilogue narrows the sum (the tensor-core template takes them first where A can be copied
// in 16-byte chunks; a stem convolution's K = 147 cannot).
std::optional<Module> matmul_cuda(const Task& task, const CudaTarget& target) {
  std::optional<GemmForm> form = analyze_gemm(task, GemmOutputs::any_float);
  if (!form) return {};
  return build_matmul_simt(task, *form, choose_matmul_cuda_config(*form, target));
}

Module matmul_cuda(const Task& task, const MatmulCudaConfig& config) {
  std::optional<GemmForm> form = analyze_gemm(task, GemmOutputs::any_float);
  TM_ASSERT(form) << "matmul_cuda: task " << task.name() << " is not a contraction";
  return build_matmul_simt(task, *form, config);
}

}  // namespace taskmap::schedules
