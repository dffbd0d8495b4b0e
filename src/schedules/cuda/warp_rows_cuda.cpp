// The warp-per-row CUDA templates (warp_rows_cuda.h): softmax and row reductions.
#include "taskmap/schedules/warp_rows_cuda.h"

#include <functional>
#include <limits>
#include <string>

#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/pool_cpu.h"
#include "taskmap/schedules/softmax_cpu.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

constexpr int64_t kWarp = 32, kRowsPerBlock = 8, kThreads = kWarp * kRowsPerBlock;

// A kernel over `rows` rows, a warp each: its launch shape in the attrs, and body(row, lane)
// for the warps whose row exists. Whole warps take the same side of that guard, so shuffles
// inside the body see all 32 lanes.
Function warp_rows_kernel(
    const Task& task, const std::string& schedule, int64_t rows, int64_t length,
    const std::function<void(KernelBuilder&, const Var&, const Expr&)>& body) {
  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", schedule + " (a warp per row)");
  kb.attr("problem", std::to_string(rows) + " rows of " + std::to_string(length));
  kb.attr("cuda.block_dim", std::to_string(kThreads));
  kb.attr("cuda.grid_dim", std::to_string((rows + kRowsPerBlock - 1) / kRowsPerBlock));
  // The thread and the row as variables, so that the guards on them bound what they index.
  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))), [&](const Var& t) {
    const Expr block = cast(i64, call("block_idx_x", {}, Type(i32)));
    kb.let("row", block * kRowsPerBlock + t / kWarp,
           [&](const Var& row) { kb.if_then(row < rows, [&] { body(kb, row, t % kWarp); }); });
  });
  return kb.build();
}

// body(j) for the lane's elements j < length of a row: j = i · 32 + lane.
void each_of_lane(KernelBuilder& kb, int64_t length, const Expr& lane,
                  const std::function<void(const Var&)>& body) {
  kb.for_range("i", (length + kWarp - 1) / kWarp, [&](const Var& i) {
    kb.let("j", i * kWarp + lane, [&](const Var& j) { kb.if_then(j < length, [&] { body(j); }); });
  });
}

// Folds `v` over the warp's lanes (a max or a sum); every lane ends with the result.
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
  const Var& out = task.output_params()[0];
  auto body = [&](KernelBuilder& kb, const Var& row, const Expr& lane) {
    const std::vector<Expr> index = unravel_index(row, row_extents);
    auto x = [&](const Expr& j) {
      std::vector<std::pair<Var, Expr>> map;
      for (size_t d = 0; d < index.size(); ++d) map.emplace_back(f.axes[d], index[d]);
      map.emplace_back(f.axes.back(), j);
      return substitute(f.x, map);
    };
    const Var m = kb.scalar("m", f32, float_imm(-std::numeric_limits<double>::infinity()));
    each_of_lane(kb, length, lane, [&](const Var& j) { kb.assign(m, max(m, x(j))); });
    warp_all_reduce(kb, m, ReduceOp::max);
    const Var s = kb.scalar("s", f32, float_imm(0.0));
    each_of_lane(kb, length, lane,
                 [&](const Var& j) { kb.assign(s, s + call("exp", {x(j) - m}, f32)); });
    warp_all_reduce(kb, s, ReduceOp::sum);
    const Var scale = kb.scalar("scale", f32, float_imm(1.0) / s);
    each_of_lane(kb, length, lane, [&](const Var& j) {
      std::vector<Expr> at = index;
      at.push_back(j);
      kb.store(out, at, call("exp", {x(j) - m}, f32) * scale);
    });
  };
  return Module{kernel_name(task.name()),
                {warp_rows_kernel(task, "softmax_cuda",
                                  task.output_params()[0].type().numel() / length, length, body)}};
}

std::optional<Module> row_reduce_cuda(const Task& task, const CudaTarget& target) {
  (void)target;
  std::optional<RowReduceForm> form = analyze_row_reduce(task);
  // (Rows shorter than a warp leave lanes idle: a thread per output, the auto-scheduler's way,
  // does as well there.)
  if (!form || form->length < kWarp) return {};
  const RowReduceForm& f = *form;
  const Var& out = task.output_params()[0];
  auto body = [&](KernelBuilder& kb, const Var& row, const Expr& lane) {
    const std::vector<Expr> index = unravel_index(row, f.extents);
    std::vector<std::pair<Var, Expr>> at_output;
    for (size_t d = 0; d < f.axes.size(); ++d) at_output.emplace_back(f.axes[d], index[d]);
    const double identity = f.op == ReduceOp::max ? -std::numeric_limits<double>::infinity() : 0.0;
    const Var acc = kb.scalar("acc", f32, float_imm(identity));
    each_of_lane(kb, f.length, lane, [&](const Var& j) {
      std::vector<std::pair<Var, Expr>> map = at_output;
      const std::vector<Expr> r = unravel_index(j, f.r_extents);
      for (size_t d = 0; d < f.r_axes.size(); ++d) map.emplace_back(f.r_axes[d], r[d]);
      const Expr term = substitute(f.term, map);
      kb.assign(acc, f.op == ReduceOp::max ? max(acc, term) : acc + term);
    });
    warp_all_reduce(kb, acc, f.op);
    kb.if_then(eq(lane, int_imm(0)), [&] {
      std::vector<std::pair<Var, Expr>> map = at_output;
      map.emplace_back(f.acc, acc);
      kb.store(out, index, substitute(f.epilogue, map));
    });
  };
  return Module{kernel_name(task.name()),
                {warp_rows_kernel(task, "row_reduce_cuda", task.output_params()[0].type().numel(),
                                  f.length, body)}};
}

}  // namespace taskmap::schedules
