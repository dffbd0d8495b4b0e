// The row softmax CUDA template (softmax_cuda.h): one warp per row.
#include "taskmap/schedules/softmax_cuda.h"

#include <functional>
#include <limits>
#include <numeric>
#include <string>

#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/softmax_cpu.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

constexpr int64_t kWarp = 32, kRowsPerBlock = 8, kThreads = kWarp * kRowsPerBlock;

// Folds `v` over the warp's lanes with `op` (xor shuffles: every lane ends with the result).
void warp_all_reduce(KernelBuilder& kb, const Var& v, ReduceOp op) {
  for (int64_t mask = kWarp / 2; mask >= 1; mask /= 2) {
    const Expr other = call("warp_shuffle_xor", {v, int_imm(mask, i32)});
    kb.assign(v, op == ReduceOp::max ? max(v, other) : v + other);
  }
}

}  // namespace

std::optional<Module> softmax_cuda(const Task& task, const CudaTarget& target) {
  (void)target;  // a warp per row suits every architecture from sm_75
  std::optional<SoftmaxForm> form = analyze_softmax(task);
  if (!form) return {};
  const SoftmaxForm& f = *form;
  const int64_t length = f.extents.back();
  const std::vector<int64_t> row_extents(f.extents.begin(), f.extents.end() - 1);
  const int64_t rows =
      std::accumulate(row_extents.begin(), row_extents.end(), int64_t{1}, std::multiplies<>());
  const int64_t steps = (length + kWarp - 1) / kWarp;

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", "softmax_cuda (a warp per row)");
  kb.attr("problem", std::to_string(rows) + " rows of " + std::to_string(length));
  kb.attr("cuda.block_dim", std::to_string(kThreads));
  kb.attr("cuda.grid_dim", std::to_string((rows + kRowsPerBlock - 1) / kRowsPerBlock));
  const Var& out = task.output_params()[0];
  // The thread and the row as variables, so that the guards on them bound what they index.
  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
    const Expr block = cast(i64, call("block_idx_x", {}, Type(i32)));
    kb.let("row", block * kRowsPerBlock + t / kWarp, [&](const Var& row) {
      // Whole warps take the same side of this guard, so the shuffles below see all 32 lanes.
      kb.if_then(row < rows, [&] {
        const std::vector<Expr> index = unravel_index(row, row_extents);
        auto x = [&](const Expr& j) {
          std::vector<std::pair<Var, Expr>> map;
          for (size_t d = 0; d < index.size(); ++d) map.emplace_back(f.axes[d], index[d]);
          map.emplace_back(f.axes.back(), j);
          return substitute(f.x, map);
        };
        // body(j) for this lane's columns j < length.
        auto each = [&](const std::function<void(const Var&)>& body) {
          kb.for_range("i", steps, [&](const Var& i) {
            kb.let("j", i * kWarp + t % kWarp,
                   [&](const Var& j) { kb.if_then(j < length, [&] { body(j); }); });
          });
        };
        const Var m = kb.scalar("m", f32, float_imm(-std::numeric_limits<double>::infinity()));
        each([&](const Var& j) { kb.assign(m, max(m, x(j))); });
        warp_all_reduce(kb, m, ReduceOp::max);
        const Var s = kb.scalar("s", f32, float_imm(0.0));
        each([&](const Var& j) { kb.assign(s, s + call("exp", {x(j) - m}, f32)); });
        warp_all_reduce(kb, s, ReduceOp::sum);
        const Var scale = kb.scalar("scale", f32, float_imm(1.0) / s);
        each([&](const Var& j) {
          std::vector<Expr> at = index;
          at.push_back(j);
          kb.store(out, at, call("exp", {x(j) - m}, f32) * scale);
        });
      });
    });
  });
  return Module{kernel_name(task.name()), {kb.build()}};
}

}  // namespace taskmap::schedules
