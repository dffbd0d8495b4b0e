#include "cuda_build/cuda_kernels_support.h"

#include <string>

#include "taskmap/lang/kernel_builder.h"

namespace taskmap::testing {
using namespace ir;

Function block_sum_kernel(int64_t n) {
  constexpr int64_t kThreads = 256, kWarps = kThreads / 32;
  lang::KernelBuilder kb("block_sum");
  const Var x = kb.param("x", Type::tensor(f32, {n}));
  const Var out = kb.param("out", Type::tensor(f32, {1}));
  kb.attr("cuda.block_dim", std::to_string(kThreads));
  kb.attr("cuda.grid_dim", std::to_string((n + kThreads - 1) / kThreads));
  const Var partial = kb.shared_tensor("partial", f32, {kWarps});
  // The thread index as a variable, so that the conditions on it bound the indices they guard.
  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
    const Expr i = cast(i64, call("block_idx_x", {}, Type(i32))) * kThreads + t;
    const Var v = kb.scalar("v", f32, float_imm(0.0));
    kb.if_then(i < n, [&] { kb.assign(v, load(x, {i})); });
    auto fold = [&](int64_t first_offset) {
      for (int64_t offset = first_offset; offset >= 1; offset /= 2)
        kb.assign(v, v + call("warp_shuffle_down", {v, int_imm(offset, i32)}));
    };
    fold(16);
    // (`t < kThreads` always holds at this launch shape; it tells the bound analysis so, which
    // otherwise allows the 1024 threads a block may have.)
    kb.if_then(t < kThreads, [&] {
      kb.if_then(eq(t % 32, int_imm(0)), [&] { kb.store(partial, {t / 32}, v); });
    });
    kb.evaluate(call("sync_threads", {}));
    kb.if_then(t < 32, [&] {
      kb.assign(v, float_imm(0.0));
      kb.if_then(t < kWarps, [&] { kb.assign(v, load(partial, {t})); });
      fold(kWarps / 2);
      kb.if_then(eq(t, int_imm(0)), [&] {
        kb.evaluate(call("atomic_add", {address(out, {0}), v}));
      });
    });
  });
  return kb.build();
}

}  // namespace taskmap::testing
