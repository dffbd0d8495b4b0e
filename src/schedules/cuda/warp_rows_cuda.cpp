// The warp-per-row CUDA templates (warp_rows_cuda.h): row normalizations and row reductions.
#include "taskmap/schedules/warp_rows_cuda.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/pool_cpu.h"

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

// The fold of a sum, mean, max or min: its start and one step.
double fold_identity(ReduceOp op) {
  if (op == ReduceOp::max) return -std::numeric_limits<double>::infinity();
  if (op == ReduceOp::min) return std::numeric_limits<double>::infinity();
  return 0.0;
}
Expr fold(ReduceOp op, const Expr& acc, const Expr& value) {
  if (op == ReduceOp::max) return max(acc, value);
  if (op == ReduceOp::min) return min(acc, value);
  return acc + value;
}

// Folds `v` over the warp's lanes; every lane ends with the result.
void warp_all_reduce(KernelBuilder& kb, const Var& v, ReduceOp op) {
  for (int64_t mask = kWarp / 2; mask >= 1; mask /= 2)
    kb.assign(v, fold(op, v, call("warp_shuffle_xor", {v, int_imm(mask, i32)})));
}

// Replaces the loads of statistics by the scalars that hold them.
class StatisticReads : public IRMutator {
 public:
  explicit StatisticReads(const std::unordered_map<const void*, Var>& scalars)
      : scalars_(scalars) {}

 protected:
  Expr mutate_Load(const LoadNode* op, const Expr& self) override {
    auto it = scalars_.find(op->buffer.get());
    return it == scalars_.end() ? IRMutator::mutate_Load(op, self) : Expr(it->second);
  }

 private:
  const std::unordered_map<const void*, Var>& scalars_;
};

}  // namespace

std::optional<RowNormForm> analyze_row_norm(const Task& task) {
  if (task.outputs().size() != 1) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr || out->axes.empty()) return {};
  const std::vector<int64_t>& extents = out->type.shape();
  if (std::find(extents.begin(), extents.end(), 0) != extents.end()) return {};
  const size_t rank = extents.size();
  std::vector<int64_t> row_shape = extents;
  row_shape.back() = 1;
  std::unordered_set<const void*> known;  // the statistics found so far
  // Whether `term` reads no compute but known statistics, each at the output's row.
  auto reads_only_statistics = [&](const Expr& term) {
    bool only = true;
    visit_compute_loads(term, [&](const LoadNode* load) {
      // (A known statistic has the output's rank.)
      if (!only || !known.count(load->buffer.get())) {
        only = false;
        return;
      }
      const auto* last = load->indices.back().as<IntImmNode>();
      only = last != nullptr && last->value == 0;
      for (size_t d = 0; only && d + 1 < rank; ++d) only = load->indices[d].same_as(out->axes[d]);
    });
    return only;
  };

  RowNormForm form{out->axes, extents, {}, out->value};
  for (const Expr& c : collect_computes(task.outputs())) {
    const auto* node = c.as<ComputeNode>();
    if (node == out) continue;
    if (node->type.shape() != row_shape) return {};
    // The statistic's axes become the output's (its unit last axis 0).
    std::vector<std::pair<Var, Expr>> map;
    for (size_t d = 0; d + 1 < rank; ++d) map.emplace_back(node->axes[d], out->axes[d]);
    map.emplace_back(node->axes.back(), int_imm(0));
    RowStatistic statistic{node, {}, f32, {}};
    if (const auto* r = node->value.as<ReduceNode>()) {
      const bool folds = r->op == ReduceOp::sum || r->op == ReduceOp::mean ||
                         r->op == ReduceOp::max || r->op == ReduceOp::min;
      if (!folds || r->axes.size() != 1 || r->extents[0] != extents.back() ||
          !r->accumulate.is_float())
        return {};
      map.emplace_back(r->axes[0], out->axes.back());
      statistic.op = r->op;
      statistic.accumulate = r->accumulate;
      statistic.term = substitute(r->value, map);
    } else {
      statistic.term = substitute(node->value, map);
    }
    if (contains_reduce(statistic.term) || !reads_only_statistics(statistic.term)) return {};
    form.statistics.push_back(std::move(statistic));
    known.insert(node);
  }
  const bool reduces = std::any_of(form.statistics.begin(), form.statistics.end(),
                                   [](const RowStatistic& s) { return s.op.has_value(); });
  if (!reduces || contains_reduce(out->value) || !reads_only_statistics(out->value)) return {};
  return form;
}

std::optional<Module> normalize_rows_cuda(const Task& task, const CudaTarget& target) {
  (void)target;  // a warp per row suits every architecture from sm_75
  std::optional<RowNormForm> form = analyze_row_norm(task);
  if (!form) return {};
  const RowNormForm& f = *form;
  const int64_t length = f.extents.back();
  const std::vector<int64_t> row_extents(f.extents.begin(), f.extents.end() - 1);
  const Var& out = task.output_params()[0];
  auto body = [&](KernelBuilder& kb, const Var& row, const Expr& lane) {
    const std::vector<Expr> index = unravel_index(row, row_extents);
    std::unordered_map<const void*, Var> scalars;  // each statistic's value, once computed
    // `term` at the row (and at element j of it), the statistics it reads replaced by theirs.
    auto at = [&](const Expr& term, const Expr& j) {
      std::vector<std::pair<Var, Expr>> map;
      for (size_t d = 0; d < index.size(); ++d) map.emplace_back(f.axes[d], index[d]);
      if (j.defined()) map.emplace_back(f.axes.back(), j);
      return StatisticReads(scalars).mutate(substitute(term, map));
    };
    for (const RowStatistic& s : f.statistics) {
      const DType dtype = s.compute->type.dtype();
      if (!s.op) {
        scalars[s.compute] = kb.scalar(s.compute->name, dtype, at(s.term, {}));
        continue;
      }
      const Var acc = kb.scalar("acc", s.accumulate, float_imm(fold_identity(*s.op), s.accumulate));
      each_of_lane(kb, length, lane, [&](const Var& j) {
        kb.assign(acc, fold(*s.op, acc, cast(s.accumulate, at(s.term, j))));
      });
      warp_all_reduce(kb, acc, *s.op);
      Expr result = acc;
      if (*s.op == ReduceOp::mean)
        result = acc / float_imm(static_cast<double>(length), s.accumulate);
      scalars[s.compute] = kb.scalar(s.compute->name, dtype, cast(dtype, result));
    }
    each_of_lane(kb, length, lane, [&](const Var& j) {
      std::vector<Expr> element = index;
      element.push_back(j);
      kb.store(out, element, at(f.value, j));
    });
  };
  return Module{kernel_name(task.name()),
                {warp_rows_kernel(task, "normalize_rows_cuda",
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
    const Var acc = kb.scalar("acc", f32, float_imm(fold_identity(f.op)));
    each_of_lane(kb, f.length, lane, [&](const Var& j) {
      std::vector<std::pair<Var, Expr>> map = at_output;
      const std::vector<Expr> r = unravel_index(j, f.r_extents);
      for (size_t d = 0; d < f.r_axes.size(); ++d) map.emplace_back(f.r_axes[d], r[d]);
      const Expr term = substitute(f.term, map);
      kb.assign(acc, fold(f.op, acc, term));
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
