// The tensor-core matmul template's kernel (mma_kernel.h): one writer per kernel, its sizes and
// tensors fixed at construction, each phase of the K loop a method.
#include "schedules/cuda/mma_kernel.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "schedules/cpu/template_util.h"
#include "schedules/cuda/split_k.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

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

const MatmulMmaConfig& checked(const MatmulMmaConfig& c) {
  check_config(c);  // before any size is derived from it
  return c;
}

class MmaKernelWriter {
 public:
  MmaKernelWriter(const Task& task, const GemmForm& f, const MmaOperands& operands,
                  const MatmulMmaConfig& c)
      : task_(task),
        f_(f),
        ops_(operands),
        c_(checked(c)),
        in_(operands.dtype()),
        chunk_(operands.chunk()),
        // An mma step is 32 bytes of K either way: 16 of f16 / bf16 (m16n8k16), 8 of tf32
        // (m16n8k8); the tile's K is block_k 16-bit elements' bytes.
        mma_k_(2 * chunk_),
        bk_(c.block_k / 8 * chunk_),
        mma_m_(c.warp_m() / 16),
        mma_n_(c.warp_n() / 8),
        k_chunks_(bk_ / chunk_),
        n_chunks_(c.block_n / chunk_),
        tiles_m_(ceil_div(f.m_size, c.block_m)),
        tiles_n_(ceil_div(f.n_size, c.block_n)),
        tiles_(f.batch_size * tiles_m_ * tiles_n_),
        split_(plan_split_k(f, ceil_div(f.k_size, bk_), c.split_k)),
        c_map_(c_mapping(c)),
        a_copy_(copy_mapping(c.block_m, k_chunks_, c.threads())),
        b_copy_(operands.b_along_k ? copy_mapping(c.block_n, k_chunks_, c.threads())
                                   : copy_mapping(bk_, n_chunks_, c.threads())),
        kb_(kernel_name(task.name())) {}

  Module build() {
    const int64_t blocks = tiles_ * split_.splits;
    kb_.params(matmul_params(task_, split_));
    kb_.attr("task", task_.name());
    MatmulMmaConfig shown = c_;
    shown.block_k = bk_;
    kb_.attr("schedule", "matmul_mma_cuda (mma.sync m16n8k" + std::to_string(mma_k_) + " " +
                             (ops_.tf32() ? "tf32" : in_.name()) + ", " + shown.str() +
                             (ops_.b_along_k ? ", B along K" : "") +
                             (ops_.b_staged ? ", B staged" : "") + ")");
    kb_.attr("problem", std::to_string(f_.m_size) + "x" + std::to_string(f_.n_size) + "x" +
                            std::to_string(f_.k_size) +
                            (f_.batch_size > 1 ? ", batch " + std::to_string(f_.batch_size) : ""));
    kb_.attr("cuda.block_dim", std::to_string(c_.threads()));
    kb_.attr("cuda.grid_dim", std::to_string(blocks));
    declare_tensors();
    kb_.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
      t_ = t;
      kb_.if_then(t < c_.threads(), [&] {
        kb_.let("block", cast(i64, call("block_idx_x", {}, Type(i32))),
                [&](const Var& block) { kb_.if_then(block < blocks, [&] { block_body(block); }); });
      });
    });
    return matmul_module(task_, f_, split_, kb_.build());
  }

 private:
  // Shared tiles, rows of 16-byte chunks: A as [row][k], B as [k][col] or [col][k]; a staged B's
  // chunks, one step ahead (fetched before a step's products, stored after); the accumulators
  // mirroring c_map; four registers of A per 16-row tile, two of B per 8-column tile.
  void declare_tensors() {
    const int64_t stages = c_.stages, bm = c_.block_m, bn = c_.block_n;
    a_smem_ = kb_.shared_tensor("a_smem", in_, {stages, bm, bk_});
    b_smem_ = ops_.b_along_k ? kb_.shared_tensor("b_smem", in_, {stages, bn, bk_})
                             : kb_.shared_tensor("b_smem", in_, {stages, bk_, bn});
    if (ops_.b_staged)
      b_regs_ = kb_.register_tensor("b_regs", in_,
                                    Layout::mirror(b_copy_).concat(Layout::row_major({chunk_})));
    acc_ = kb_.register_tensor("acc", f32, Layout::mirror(c_map_));
    a_frag_ = kb_.register_tensor("a_frag", in_, Layout::row_major({mma_m_, 4 * 4 / in_.bytes()}));
    b_frag_ = kb_.register_tensor("b_frag", in_, Layout::row_major({mma_n_, 2 * 4 / in_.bytes()}));
  }

  // One block: its K range (split-k) outermost, then its tile.
  void block_body(const Var& block) {
    const bool split = split_.splits > 1;
    part_ = split ? block / tiles_ : int_imm(0);
    const Expr tile_index = split ? block % tiles_ : Expr(block);
    first_step_ = part_ * split_.steps_per_split;
    kb_.let("batch", tile_index / (tiles_m_ * tiles_n_), [&](const Var& batch) {
      kb_.let("m0", tile_index / tiles_n_ % tiles_m_ * c_.block_m, [&](const Var& m0) {
        kb_.let("n0", tile_index % tiles_n_ * c_.block_n, [&](const Var& n0) {
          batch_ = batch;
          m0_ = m0;
          n0_ = n0;
          kb_.for_mapping(c_map_, t_,
                          [&](const Index& ij) { kb_.store(acc_, ij, float_imm(0.0)); });
          k_loop();
          store_results();
        });
      });
    });
  }

  // The first stages - 1 steps in flight, then per step: wait for its tiles, start the step
  // stages - 1 ahead, multiply.
  void k_loop() {
    const int64_t stages = c_.stages, steps = split_.steps_per_split;
    const Expr commit = call("cp_async_commit", {});
    for (int64_t s = 0; s + 1 < stages; ++s) {
      if (s < steps) {
        load_stage(int_imm(s), int_imm(s));
        if (ops_.b_staged) {
          fetch_b(int_imm(s));
          store_b(int_imm(s));
        }
      }
      kb_.evaluate(commit);  // (empty groups keep the count the waits rely on)
    }
    kb_.let("warp", t_ / 32, [&](const Var& warp) {
      kb_.let("lane", t_ % 32, [&](const Var& lane) {
        lane_ = lane;
        wm0_ = warp / c_.warps_n * c_.warp_m();
        wn0_ = warp % c_.warps_n * c_.warp_n();
        kb_.for_range("kb", steps, [&](const Var& step) {
          kb_.evaluate(call("cp_async_wait", {int_imm(stages - 2, i32)}));
          kb_.evaluate(call("sync_threads", {}));
          // (Without later steps the prologue loaded every tile.)
          const bool later = steps > stages - 1;
          kb_.let("next", step + (stages - 1), [&](const Var& next) {
            if (later) {
              kb_.if_then(next < steps, [&] {
                load_stage(next, next % stages);
                if (ops_.b_staged) fetch_b(next);
              });
            }
            kb_.evaluate(commit);
            const Expr stage = step % stages;
            kb_.for_range("ks", bk_ / mma_k_, LoopHint::unroll(), [&](const Var& ks) {
              load_a_fragments(stage, ks);
              load_b_fragments(stage, ks);
              multiply();
            });
            // The staged chunks into the buffer the previous step read.
            if (ops_.b_staged && later) kb_.if_then(next < steps, [&] { store_b(next % stages); });
          });
        });
      });
    });
  }

  // The address of a factor's element: the load's indices with the GEMM coordinates bound.
  Expr factor_address(const LoadNode* ld, const Expr& row, const Expr& col, const Expr& k) const {
    std::vector<std::pair<Var, Expr>> map = gemm_bindings(f_, batch_, row, col, k);
    std::vector<Expr> index;
    for (const Expr& i : ld->indices) index.push_back(substitute(i, map));
    return address(ld->buffer, index);
  }

  // One chunk into buffer `stage` by cp.async, zero-filled outside the problem (from a clamped
  // address, so that nothing out of bounds is named).
  void copy_chunk(const Var& smem, const Expr& stage, const Expr& srow, const Expr& chunk_index,
                  int64_t chunks, const Expr& inside, const Expr& source) {
    const Expr dst = address(smem, {stage, srow, swizzle(srow, chunk_index, chunks) * chunk_});
    kb_.evaluate(
        call("cp_async_16", {dst, source, select(inside, int_imm(16, i32), int_imm(0, i32))}));
  }

  // Step `step`'s (counted within the block's K range) tiles of A and of a copied B into buffer
  // `stage`.
  void load_stage(const Expr& step, const Expr& stage) {
    const Expr k0 = (first_step_ + step) * bk_;
    kb_.for_mapping(a_copy_, t_, [&](const Index& rc) {
      const Expr row = m0_ + rc[0], k = k0 + rc[1] * chunk_;
      const Expr inside = row < f_.m_size && k < f_.k_size;
      copy_chunk(a_smem_, stage, rc[0], rc[1], k_chunks_, inside,
                 factor_address(ops_.a, min(row, f_.m_size - 1), {}, min(k, f_.k_size - chunk_)));
    });
    if (ops_.b_staged) return;  // (fetch_b, store_b)
    kb_.for_mapping(b_copy_, t_, [&](const Index& rc) {
      if (ops_.b_along_k) {
        const Expr col = n0_ + rc[0], k = k0 + rc[1] * chunk_;
        copy_chunk(b_smem_, stage, rc[0], rc[1], k_chunks_, col < f_.n_size && k < f_.k_size,
                   factor_address(ops_.b, {}, min(col, f_.n_size - 1), min(k, f_.k_size - chunk_)));
      } else {
        const Expr k = k0 + rc[0], col = n0_ + rc[1] * chunk_;
        copy_chunk(b_smem_, stage, rc[0], rc[1], n_chunks_, k < f_.k_size && col < f_.n_size,
                   factor_address(ops_.b, {}, min(col, f_.n_size - chunk_), min(k, f_.k_size - 1)));
      }
    });
  }

  // A staged B: step `step`'s chunks evaluated into registers (0 outside the problem) ...
  void fetch_b(const Expr& step) {
    kb_.for_mapping(b_copy_, t_, [&](const Index& rc) {
      for (int64_t e = 0; e < chunk_; ++e) {
        const Index at = {rc[0], rc[1], int_imm(e)};
        kb_.store(b_regs_, at, float_imm(0.0, in_));
        kb_.let("k", (first_step_ + step) * bk_ + rc[0], [&](const Var& k) {
          kb_.let("col", n0_ + rc[1] * chunk_ + e, [&](const Var& col) {
            kb_.if_then(k < f_.k_size && col < f_.n_size, [&] {
              kb_.store(b_regs_, at,
                        cast(in_, substitute(f_.b, gemm_bindings(f_, batch_, {}, col, k))));
            });
          });
        });
      }
    });
  }

  // ... then stored to buffer `stage` as a copied B along N would land.
  void store_b(const Expr& stage) {
    kb_.for_mapping(b_copy_, t_, [&](const Index& rc) {
      for (int64_t e = 0; e < chunk_; ++e)
        kb_.store(b_smem_, {stage, rc[0], swizzle(rc[0], rc[1], n_chunks_) * chunk_ + e},
                  load(b_regs_, {rc[0], rc[1], int_imm(e)}));
    });
  }

  // A: four 8 × 8 matrices of 16-bit pairs per 16-row fragment (16 × 16 halves, or 16 × 8 tf32:
  // a lane's word is the element it needs either way); lane l names row l % 16 at k chunk l / 16.
  void load_a_fragments(const Expr& stage, const Var& ks) {
    kb_.for_range("mi", mma_m_, LoopHint::unroll(), [&](const Var& mi) {
      const Expr row = wm0_ + mi * 16 + lane_ % 16;
      const Expr piece = ks * 2 + lane_ / 16;
      kb_.evaluate(
          call("ldmatrix", {address(a_frag_, {mi, int_imm(0)}),
                            address(a_smem_, {stage, row, swizzle(row, piece, k_chunks_) * chunk_}),
                            int_imm(4, i32), int_imm(0, i32)}));
    });
  }

  void load_b_fragments(const Expr& stage, const Var& ks) {
    if (ops_.tf32() && !ops_.b_along_k) {
      // B along N in tf32: ldmatrix transposes 16-bit elements only, so each lane reads its
      // two words, (k, n) = (lane % 4 [+ 4], lane / 4).
      kb_.for_range("ni", mma_n_, LoopHint::unroll(), [&](const Var& ni) {
        const Expr col = wn0_ + ni * 8 + lane_ / 4;
        for (int64_t half = 0; half < 2; ++half) {
          const Expr k = ks * mma_k_ + lane_ % 4 + half * 4;
          const Expr at = swizzle(k, col / chunk_, n_chunks_) * chunk_ + col % chunk_;
          kb_.store(b_frag_, {ni, int_imm(half)}, load(b_smem_, {stage, k, at}));
        }
      });
      return;
    }
    // Two 8-column tiles per ldmatrix.x4; matrix j = lane / 8 is tile 2 p + j / 2, k half j % 2.
    kb_.for_range("p", mma_n_ / 2, LoopHint::unroll(), [&](const Var& p) {
      const Expr j = lane_ / 8, r = lane_ % 8;
      Expr source;
      if (ops_.b_along_k) {
        const Expr col = wn0_ + (p * 2 + j / 2) * 8 + r;
        const Expr piece = ks * 2 + j % 2;
        source = address(b_smem_, {stage, col, swizzle(col, piece, k_chunks_) * chunk_});
      } else {
        const Expr k = ks * mma_k_ + j % 2 * 8 + r;
        const Expr piece = (wn0_ + (p * 2 + j / 2) * 8) / chunk_;
        source = address(b_smem_, {stage, k, swizzle(k, piece, n_chunks_) * chunk_});
      }
      kb_.evaluate(call("ldmatrix", {address(b_frag_, {p * 2, int_imm(0)}), source, int_imm(4, i32),
                                     int_imm(ops_.b_along_k ? 0 : 1, i32)}));
    });
  }

  // Every tile of the warp: its lane's first element is where its four accumulators start (acc
  // mirrors c_map).
  void multiply() {
    kb_.for_range("mi", mma_m_, LoopHint::unroll(), [&](const Var& mi) {
      kb_.for_range("ni", mma_n_, LoopHint::unroll(), [&](const Var& ni) {
        const Expr tile =
            address(acc_, {wm0_ + mi * 16 + lane_ / 4, wn0_ + ni * 8 + lane_ % 4 * 2});
        kb_.evaluate(call("mma_sync", {tile, address(a_frag_, {mi, int_imm(0)}),
                                       address(b_frag_, {ni, int_imm(0)}), tile}));
      });
    });
  }

  // The epilogue walks c_map: each accumulator into the output (or the workspace's range).
  void store_results() {
    const bool ragged = f_.m_size % c_.block_m != 0 || f_.n_size % c_.block_n != 0;
    kb_.for_mapping(c_map_, t_, [&](const Index& ij) {
      auto store = [&](const Expr& row, const Expr& col) {
        store_tile_sum(kb_, task_, f_, split_, part_, batch_, row, col, load(acc_, ij));
      };
      kb_.let("row", m0_ + ij[0], [&](const Var& row) {
        kb_.let("col", n0_ + ij[1], [&](const Var& col) {
          if (ragged) {
            kb_.if_then(row < f_.m_size && col < f_.n_size, [&] { store(row, col); });
          } else {
            store(row, col);
          }
        });
      });
    });
  }

  const Task& task_;
  const GemmForm& f_;
  const MmaOperands& ops_;
  const MatmulMmaConfig& c_;
  const DType in_;
  const int64_t chunk_, mma_k_, bk_, mma_m_, mma_n_, k_chunks_, n_chunks_;
  const int64_t tiles_m_, tiles_n_, tiles_;
  const SplitK split_;
  const TaskMapping c_map_, a_copy_, b_copy_;
  KernelBuilder kb_;
  Var a_smem_, b_smem_, b_regs_, acc_, a_frag_, b_frag_;
  // Bound as the kernel's lets open: the thread, the block's range and tile, the warp's lane
  // and tile origin.
  Var t_, batch_, m0_, n0_, lane_;
  Expr part_, first_step_, wm0_, wn0_;
};

}  // namespace

Module build_matmul_mma(const Task& task, const GemmForm& f, const MmaOperands& operands,
                        const MatmulMmaConfig& c) {
  return MmaKernelWriter(task, f, operands, c).build();
}

}  // namespace taskmap::schedules
