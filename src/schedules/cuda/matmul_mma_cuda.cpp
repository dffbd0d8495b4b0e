// The tensor-core matmul CUDA template (matmul_mma_cuda.h): cp.async stages into swizzled
// shared memory, ldmatrix fragments, mma.sync on accumulators that mirror the C fragment
// mapping.
#include "taskmap/schedules/matmul_mma_cuda.h"

#include <algorithm>
#include <string>

#include "arith/linear.h"
#include "schedules/cuda/split_k.h"
#include "schedules/cuda/tile_choice.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

constexpr int64_t kChunkBytes = 16;  // one cp.async copy / one ldmatrix row

// Elements of `dtype` in a 16-byte chunk: 8 of f16 / bf16, 4 of f32 (tf32).
int64_t chunk_of(DType dtype) {
  return kChunkBytes / dtype.bytes();
}

// The load under `factor` = cast(f32, load(x, ...)) with x of f16 / bf16, or with `tf32` a bare
// load(x, ...) of f32; nullptr otherwise.
const LoadNode* mma_load(const Expr& factor, bool tf32) {
  const LoadNode* ld = factor.as<LoadNode>();
  if (ld == nullptr) {
    const auto* widen = factor.as<CastNode>();
    if (widen == nullptr || widen->type.dtype() != f32) return nullptr;
    ld = widen->value.as<LoadNode>();
  } else if (!tf32) {
    return nullptr;
  }
  const auto* buffer = ld != nullptr ? ld->buffer.as<VarNode>() : nullptr;
  if (buffer == nullptr || !buffer->type.is_tensor()) return nullptr;
  const DType dtype = buffer->type.dtype();
  if (ld == factor.get()) return dtype == f32 ? ld : nullptr;
  return dtype == f16 || dtype == bf16 ? ld : nullptr;
}

// Whether the load's flat element offset, with the form's coordinates bound to fresh
// variables, steps by 1 along `along` (which no other term reads) and by multiples of `chunk`
// otherwise, so that the chunk at an along-coordinate that is a multiple of `chunk` is 16 bytes
// aligned (given an aligned tensor) and contiguous.
bool chunks_along(const GemmForm& f, const LoadNode* ld, bool along_k, int64_t chunk) {
  const Var batch = var("batch", index_dtype), row = var("row", index_dtype);
  const Var col = var("col", index_dtype), k = var("k", index_dtype);
  const Var& along = along_k ? k : col;
  const std::vector<std::pair<Var, Expr>> map = gemm_bindings(f, batch, row, col, k);
  std::vector<Expr> index;
  for (const Expr& i : ld->indices) index.push_back(substitute(i, map));
  const Expr flat = ld->buffer.type().layout().offset(index);
  std::optional<arith::LinearForm> form = arith::linear_form(arith::simplify(flat));
  if (!form || form->constant % chunk != 0) return false;
  bool steps_by_one = false;
  for (const arith::LinearTerm& t : form->terms) {
    if (t.expr.same_as(along)) {
      steps_by_one = t.coeff == 1;
      continue;
    }
    for (const Var& v : free_vars(t.expr))
      if (v.same_as(along)) return false;
    if (t.coeff % chunk != 0) return false;
  }
  return steps_by_one;
}

// The factors the copies read: loads of f16 / bf16 inputs (widened to f32 in the task), or with
// tf32 of f32 ones, whose 16-byte chunks are contiguous and aligned, A's along K, B's along N or
// K. A B that cannot be copied so (a convolution's windows, rows not whole chunks, strides) is
// staged: computed by the threads from loads of inputs of A's type, through registers.
struct MmaOperands {
  const LoadNode* a = nullptr;
  const LoadNode* b = nullptr;  // nullptr when staged
  bool b_along_k = false;       // B's chunks run along K (a transposed B), else along N
  bool b_staged = false;        // B evaluated into registers and stored along N

  DType dtype() const { return a->buffer.type().dtype(); }
  int64_t chunk() const { return chunk_of(dtype()); }
  bool tf32() const { return dtype() == f32; }
};

// Whether `factor` reads only tensors of `dtype` (and reads some): staged into shared memory of
// that type, its values are exact.
bool reads_only(const Expr& factor, DType dtype) {
  bool any = false, others = false;
  post_order_visit(factor, [&](const Expr& e) {
    if (const auto* ld = e.as<LoadNode>()) {
      const bool same = ld->buffer.type().dtype() == dtype;
      any |= same;
      others |= !same;
    }
  });
  return any && !others;
}

std::optional<MmaOperands> mma_operands(const GemmForm& f, bool tf32) {
  MmaOperands out{mma_load(f.a, tf32), mma_load(f.b, tf32)};
  if (out.a == nullptr) return {};
  const int64_t chunk = out.chunk();
  if (f.k_size % chunk != 0 || !chunks_along(f, out.a, true, chunk)) return {};
  if (out.b != nullptr && out.dtype() == out.b->buffer.type().dtype()) {
    if (f.n_size % chunk == 0 && chunks_along(f, out.b, false, chunk)) return out;
    if (chunks_along(f, out.b, true, chunk)) {
      out.b_along_k = true;
      return out;
    }
  }
  if (!reads_only(f.b, out.dtype())) return {};
  out.b = nullptr;
  out.b_staged = true;
  return out;
}

// (block_k counts 16-bit elements: the chunk counts below hold for tf32 tiles too.)
void check_config(const MatmulMmaConfig& c) {
  const int64_t t = c.threads();
  const int64_t k_chunks = c.block_k / 8, n_chunks = c.block_n / 8;
  TM_USER_CHECK(c.block_m % c.warps_m == 0 && c.block_n % c.warps_n == 0 && c.warp_m() % 16 == 0 &&
                c.warp_n() % 16 == 0 && c.block_k % 16 == 0 && c.stages >= 2 && t % k_chunks == 0 &&
                c.block_m % (t / k_chunks) == 0 && c.block_n % (t / k_chunks) == 0 &&
                t % n_chunks == 0 && c.block_k % (t / n_chunks) == 0)
      << "matmul_mma_cuda config " << c.str()
      << ": warp tiles must be multiples of 16 × 16, BK of 16, and the threads must split "
         "each tile's 16-byte chunks evenly";
}

// The physical 16-byte chunk of logical `chunk` in shared row `row` of `chunks` chunks: rotated
// within groups of (at most) eight by the row's position in a run of 128-byte lines, so that
// eight consecutive rows read at one logical chunk hit eight distinct bank groups.
Expr swizzle(const Expr& row, const Expr& chunk, int64_t chunks) {
  const int64_t group = std::min<int64_t>(chunks, 8);
  const int64_t rows_per_line = std::max<int64_t>(1, 8 / chunks);
  const Expr turn = row / rows_per_line % group;
  if (group == chunks) return (chunk + turn) % group;
  return chunk / group * group + (chunk % group + turn) % group;
}

// The C fragment mapping of mma.m16n8k16 (a lane's elements of a 16 × 8 tile: rows lane / 4
// and + 8, columns 2 (lane % 4) + {0, 1}) over the block's warps and each warp's tiles.
TaskMapping c_mapping(const MatmulMmaConfig& c) {
  const std::vector<LoopHint> unrolled = {LoopHint::unroll(), LoopHint::unroll()};
  return lang::spatial({c.warps_m, c.warps_n}) *
         lang::repeat({c.warp_m() / 16, c.warp_n() / 8}, unrolled) *
         lang::repeat({2, 1}, unrolled) * lang::spatial({8, 4}) * lang::repeat({1, 2}, unrolled);
}

// The chunk copies of a rows × chunks tile spread over the block's threads.
TaskMapping copy_mapping(int64_t rows, int64_t chunks, int64_t threads) {
  const int64_t rows_per_pass = threads / chunks;
  return lang::repeat({rows / rows_per_pass, 1}, {LoopHint::unroll(), LoopHint::unroll()}) *
         lang::spatial({rows_per_pass, chunks});
}

}  // namespace

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

namespace {

Module build_matmul_mma(const Task& task, const GemmForm& f, const MmaOperands& operands,
                        const MatmulMmaConfig& c) {
  check_config(c);
  const bool b_along_k = operands.b_along_k, b_staged = operands.b_staged, tf32 = operands.tf32();
  const DType in = operands.dtype();
  const int64_t chunk = operands.chunk();
  // An mma step is 32 bytes of K either way: 16 of f16 / bf16 (m16n8k16), 8 of tf32 (m16n8k8);
  // the tile's K is block_k 16-bit elements' bytes.
  const int64_t mma_k = 2 * chunk, bk = c.block_k / 8 * chunk;
  const int64_t bm = c.block_m, bn = c.block_n, threads = c.threads();
  const int64_t wm = c.warp_m(), wn = c.warp_n(), stages = c.stages;
  const int64_t tiles_m = ceil_div(f.m_size, bm), tiles_n = ceil_div(f.n_size, bn);
  const int64_t tiles = f.batch_size * tiles_m * tiles_n;
  const SplitK split = plan_split_k(f, ceil_div(f.k_size, bk), c.split_k);
  const int64_t parts = split.splits, steps = split.steps_per_split, blocks = tiles * parts;
  const int64_t mma_m = wm / 16, mma_n = wn / 8;
  const int64_t k_chunks = bk / chunk, n_chunks = bn / chunk;
  const bool ragged_m = f.m_size % bm != 0, ragged_n = f.n_size % bn != 0;
  const TaskMapping c_map = c_mapping(c);
  const TaskMapping a_copy = copy_mapping(bm, k_chunks, threads);
  const TaskMapping b_copy =
      b_along_k ? copy_mapping(bn, k_chunks, threads) : copy_mapping(bk, n_chunks, threads);

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(matmul_params(task, split));
  kb.attr("task", task.name());
  MatmulMmaConfig shown = c;
  shown.block_k = bk;
  kb.attr("schedule", "matmul_mma_cuda (mma.sync m16n8k" + std::to_string(mma_k) + " " +
                          (tf32 ? "tf32" : in.name()) + ", " + shown.str() +
                          (b_along_k ? ", B along K" : "") + (b_staged ? ", B staged" : "") + ")");
  kb.attr("problem", std::to_string(f.m_size) + "x" + std::to_string(f.n_size) + "x" +
                         std::to_string(f.k_size) +
                         (f.batch_size > 1 ? ", batch " + std::to_string(f.batch_size) : ""));
  kb.attr("cuda.block_dim", std::to_string(threads));
  kb.attr("cuda.grid_dim", std::to_string(blocks));
  // Shared tiles, rows of 16-byte chunks: A as [row][k], B as [k][col] or [col][k].
  const Var a_smem = kb.shared_tensor("a_smem", in, {stages, bm, bk});
  const Var b_smem = b_along_k ? kb.shared_tensor("b_smem", in, {stages, bn, bk})
                               : kb.shared_tensor("b_smem", in, {stages, bk, bn});
  // A staged B's chunks, one step ahead: fetched before a step's products, stored after.
  const Var b_regs =
      b_staged ? kb.register_tensor("b_regs", in,
                                    Layout::mirror(b_copy).concat(Layout::row_major({chunk})))
               : Var();
  const Var acc = kb.register_tensor("acc", f32, Layout::mirror(c_map));
  // Four registers of A per 16-row tile, two of B per 8-column tile.
  const Var a_frag =
      kb.register_tensor("a_frag", in, Layout::row_major({mma_m, 4 * 4 / in.bytes()}));
  const Var b_frag =
      kb.register_tensor("b_frag", in, Layout::row_major({mma_n, 2 * 4 / in.bytes()}));

  // The address of a factor's element: the load's indices with the GEMM coordinates bound.
  auto factor_address = [&](const LoadNode* ld, const Expr& batch, const Expr& row, const Expr& col,
                            const Expr& k) {
    std::vector<std::pair<Var, Expr>> map = gemm_bindings(f, batch, row, col, k);
    std::vector<Expr> index;
    for (const Expr& i : ld->indices) index.push_back(substitute(i, map));
    return address(ld->buffer, index);
  };
  const Expr sync = call("sync_threads", {});

  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
    kb.if_then(t < threads, [&] {
      kb.let("block", cast(i64, call("block_idx_x", {}, Type(i32))), [&](const Var& block) {
        kb.if_then(block < blocks, [&] {
          // The K range (split-k) outermost, then the tile.
          const Expr part = parts > 1 ? block / tiles : int_imm(0);
          const Expr tile_index = parts > 1 ? block % tiles : Expr(block);
          const Expr first_step = part * steps;
          kb.let("batch", tile_index / (tiles_m * tiles_n), [&](const Var& batch) {
            kb.let("m0", tile_index / tiles_n % tiles_m * bm, [&](const Var& m0) {
              kb.let("n0", tile_index % tiles_n * bn, [&](const Var& n0) {
                kb.for_mapping(c_map, t,
                               [&](const Index& ij) { kb.store(acc, ij, float_imm(0.0)); });

                // Tile `step`'s chunks into buffer `stage`: cp.async, zero-filled outside the
                // problem (from a clamped address, so that nothing out of bounds is named).
                auto copy_chunk = [&](const Var& smem, const Expr& stage, const Expr& srow,
                                      const Expr& chunk_index, int64_t chunks, const Expr& inside,
                                      const Expr& source) {
                  const Expr dst =
                      address(smem, {stage, srow, swizzle(srow, chunk_index, chunks) * chunk});
                  kb.evaluate(
                      call("cp_async_16",
                           {dst, source, select(inside, int_imm(16, i32), int_imm(0, i32))}));
                };
                // (`step` counts within the block's K range.)
                auto load_stage = [&](const Expr& step, const Expr& stage) {
                  const Expr k0 = (first_step + step) * bk;
                  kb.for_mapping(a_copy, t, [&](const Index& rc) {
                    const Expr row = m0 + rc[0], k = k0 + rc[1] * chunk;
                    const Expr inside = row < f.m_size && k < f.k_size;
                    copy_chunk(a_smem, stage, rc[0], rc[1], k_chunks, inside,
                               factor_address(operands.a, batch, min(row, f.m_size - 1), {},
                                              min(k, f.k_size - chunk)));
                  });
                  if (b_staged) return;  // (fetch_b, store_b)
                  kb.for_mapping(b_copy, t, [&](const Index& rc) {
                    if (b_along_k) {
                      const Expr col = n0 + rc[0], k = k0 + rc[1] * chunk;
                      copy_chunk(b_smem, stage, rc[0], rc[1], k_chunks,
                                 col < f.n_size && k < f.k_size,
                                 factor_address(operands.b, batch, {}, min(col, f.n_size - 1),
                                                min(k, f.k_size - chunk)));
                    } else {
                      const Expr k = k0 + rc[0], col = n0 + rc[1] * chunk;
                      copy_chunk(b_smem, stage, rc[0], rc[1], n_chunks,
                                 k < f.k_size && col < f.n_size,
                                 factor_address(operands.b, batch, {}, min(col, f.n_size - chunk),
                                                min(k, f.k_size - 1)));
                    }
                  });
                };
                // A staged B: step `step`'s chunks evaluated into registers (0 outside the
                // problem), then stored to buffer `stage` as a copied B along N would land.
                auto fetch_b = [&](const Expr& step) {
                  kb.for_mapping(b_copy, t, [&](const Index& rc) {
                    for (int64_t e = 0; e < chunk; ++e) {
                      const Index at = {rc[0], rc[1], int_imm(e)};
                      kb.store(b_regs, at, float_imm(0.0, in));
                      kb.let("k", (first_step + step) * bk + rc[0], [&](const Var& k) {
                        kb.let("col", n0 + rc[1] * chunk + e, [&](const Var& col) {
                          kb.if_then(k < f.k_size && col < f.n_size, [&] {
                            kb.store(
                                b_regs, at,
                                cast(in, substitute(f.b, gemm_bindings(f, batch, {}, col, k))));
                          });
                        });
                      });
                    }
                  });
                };
                auto store_b = [&](const Expr& stage) {
                  kb.for_mapping(b_copy, t, [&](const Index& rc) {
                    for (int64_t e = 0; e < chunk; ++e)
                      kb.store(b_smem, {stage, rc[0], swizzle(rc[0], rc[1], n_chunks) * chunk + e},
                               load(b_regs, {rc[0], rc[1], int_imm(e)}));
                  });
                };
                const Expr commit = call("cp_async_commit", {});

                for (int64_t s = 0; s + 1 < stages; ++s) {
                  if (s < steps) {
                    load_stage(int_imm(s), int_imm(s));
                    if (b_staged) {
                      fetch_b(int_imm(s));
                      store_b(int_imm(s));
                    }
                  }
                  kb.evaluate(commit);  // (empty groups keep the count the waits rely on)
                }
                kb.let("warp", t / 32, [&](const Var& warp) {
                  kb.let("lane", t % 32, [&](const Var& lane) {
                    const Expr wm0 = warp / c.warps_n * wm, wn0 = warp % c.warps_n * wn;
                    kb.for_range("kb", steps, [&](const Var& step) {
                      kb.evaluate(call("cp_async_wait", {int_imm(stages - 2, i32)}));
                      kb.evaluate(sync);
                      // (Without later steps the prologue loaded every tile.)
                      const bool later = steps > stages - 1;
                      kb.let("next", step + (stages - 1), [&](const Var& next) {
                        if (later) {
                          kb.if_then(next < steps, [&] {
                            load_stage(next, next % stages);
                            if (b_staged) fetch_b(next);
                          });
                        }
                        kb.evaluate(commit);
                        const Expr stage = step % stages;
                        kb.for_range("ks", bk / mma_k, LoopHint::unroll(), [&](const Var& ks) {
                          // A: four 8 × 8 matrices of 16-bit pairs per 16-row fragment (16 × 16
                          // halves, or 16 × 8 tf32: a lane's word is the element it needs either
                          // way); lane l names row l % 16 at k chunk l / 16.
                          kb.for_range("mi", mma_m, LoopHint::unroll(), [&](const Var& mi) {
                            const Expr row = wm0 + mi * 16 + lane % 16;
                            const Expr piece = ks * 2 + lane / 16;
                            kb.evaluate(
                                call("ldmatrix",
                                     {address(a_frag, {mi, int_imm(0)}),
                                      address(a_smem,
                                              {stage, row, swizzle(row, piece, k_chunks) * chunk}),
                                      int_imm(4, i32), int_imm(0, i32)}));
                          });
                          if (tf32 && !b_along_k) {
                            // B along N in tf32: ldmatrix transposes 16-bit elements only, so
                            // each lane reads its two words, (k, n) = (lane % 4 [+ 4], lane / 4).
                            kb.for_range("ni", mma_n, LoopHint::unroll(), [&](const Var& ni) {
                              const Expr col = wn0 + ni * 8 + lane / 4;
                              for (int64_t half = 0; half < 2; ++half) {
                                const Expr k = ks * mma_k + lane % 4 + half * 4;
                                const Expr at =
                                    swizzle(k, col / chunk, n_chunks) * chunk + col % chunk;
                                kb.store(b_frag, {ni, int_imm(half)}, load(b_smem, {stage, k, at}));
                              }
                            });
                          } else {
                            // B: two 8-column tiles per ldmatrix.x4; matrix j = lane / 8 is tile
                            // 2 p + j / 2, k half j % 2.
                            kb.for_range("p", mma_n / 2, LoopHint::unroll(), [&](const Var& p) {
                              const Expr j = lane / 8, r = lane % 8;
                              Expr source;
                              if (b_along_k) {
                                const Expr col = wn0 + (p * 2 + j / 2) * 8 + r;
                                const Expr piece = ks * 2 + j % 2;
                                source = address(
                                    b_smem, {stage, col, swizzle(col, piece, k_chunks) * chunk});
                              } else {
                                const Expr k = ks * mma_k + j % 2 * 8 + r;
                                const Expr piece = (wn0 + (p * 2 + j / 2) * 8) / chunk;
                                source = address(b_smem,
                                                 {stage, k, swizzle(k, piece, n_chunks) * chunk});
                              }
                              kb.evaluate(call("ldmatrix",
                                               {address(b_frag, {p * 2, int_imm(0)}), source,
                                                int_imm(4, i32), int_imm(b_along_k ? 0 : 1, i32)}));
                            });
                          }
                          kb.for_range("mi", mma_m, LoopHint::unroll(), [&](const Var& mi) {
                            kb.for_range("ni", mma_n, LoopHint::unroll(), [&](const Var& ni) {
                              // The tile's first element of this lane: its four accumulators
                              // start there (acc mirrors c_map).
                              const Expr tile = address(
                                  acc, {wm0 + mi * 16 + lane / 4, wn0 + ni * 8 + lane % 4 * 2});
                              kb.evaluate(
                                  call("mma_sync", {tile, address(a_frag, {mi, int_imm(0)}),
                                                    address(b_frag, {ni, int_imm(0)}), tile}));
                            });
                          });
                        });
                        // The staged chunks into the buffer the previous step read.
                        if (b_staged && later)
                          kb.if_then(next < steps, [&] { store_b(next % stages); });
                      });
                    });
                  });
                });

                kb.for_mapping(c_map, t, [&](const Index& ij) {
                  auto store = [&](const Expr& row, const Expr& col) {
                    store_tile_sum(kb, task, f, split, part, batch, row, col, load(acc, ij));
                  };
                  kb.let("row", m0 + ij[0], [&](const Var& row) {
                    kb.let("col", n0 + ij[1], [&](const Var& col) {
                      if (ragged_m || ragged_n) {
                        kb.if_then(row < f.m_size && col < f.n_size, [&] { store(row, col); });
                      } else {
                        store(row, col);
                      }
                    });
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
