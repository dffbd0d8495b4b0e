// The row softmax template (softmax_cpu.h): recognition and the one-row-per-task kernel.
#include "taskmap/schedules/softmax_cpu.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/equality.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/primitive.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

// A load of a keepdims reduction at the output's row: indices (axes[0..rank-1), 0).
const ComputeNode* row_load(const Expr& e, const std::vector<Var>& axes) {
  const auto* ld = e.as<LoadNode>();
  if (ld == nullptr || ld->indices.size() != axes.size()) return nullptr;
  for (size_t d = 0; d + 1 < axes.size(); ++d)
    if (!ld->indices[d].same_as(axes[d])) return nullptr;
  const auto* last = ld->indices.back().as<IntImmNode>();
  if (last == nullptr || last->value != 0) return nullptr;
  return ld->buffer.as<ComputeNode>();
}

// The value of one-axis reduction `c` (op `op`, over the output's last extent) at the output's
// element: its reduction axis becomes the output's last axis, its row axes the output's.
std::optional<Expr> reduced_term(const ComputeNode* c, ReduceOp op, const std::vector<Var>& axes,
                                 int64_t length) {
  const auto* r = c == nullptr ? nullptr : c->value.as<ReduceNode>();
  if (r == nullptr || r->op != op || r->axes.size() != 1 || r->extents[0] != length ||
      r->accumulate != f32 || c->axes.size() != axes.size())
    return {};
  std::vector<std::pair<Var, Expr>> map = {{r->axes[0], axes.back()}};
  for (size_t d = 0; d + 1 < axes.size(); ++d) map.emplace_back(c->axes[d], axes[d]);
  map.emplace_back(c->axes.back(), int_imm(0));
  return substitute(r->value, map);
}

}  // namespace

std::optional<SoftmaxForm> analyze_softmax(const Task& task) {
  if (task.outputs().size() != 1 || collect_computes(task.outputs()).size() != 3) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr || out->type.dtype() != f32 || out->axes.empty()) return {};
  const std::vector<int64_t>& extents = out->type.shape();
  if (std::find(extents.begin(), extents.end(), 0) != extents.end()) return {};
  // out = exp(x - max[row]) / sum[row]
  const auto* div = out->value.as<BinaryNode>();
  if (div == nullptr || div->op != BinaryOp::div) return {};
  const auto* exp = div->a.as<CallNode>();
  if (exp == nullptr || exp->callee->name != "exp" || exp->args.size() != 1) return {};
  const auto* shifted = exp->args[0].as<BinaryNode>();
  if (shifted == nullptr || shifted->op != BinaryOp::sub || shifted->a.dtype() != f32) return {};
  const std::vector<Var>& axes = out->axes;
  const ComputeNode* max = row_load(shifted->b, axes);
  const ComputeNode* sum = row_load(div->b, axes);
  // max[row] = max_j x; sum[row] = Σ_j exp(x - max[row]), with the same x.
  std::optional<Expr> max_term = reduced_term(max, ReduceOp::max, axes, extents.back());
  std::optional<Expr> sum_term = reduced_term(sum, ReduceOp::sum, axes, extents.back());
  if (!max_term || !sum_term || !struct_equal(*max_term, shifted->a) ||
      !struct_equal(*sum_term, div->a))
    return {};
  return SoftmaxForm{axes, extents, shifted->a};
}

std::optional<SoftmaxPlan> plan_softmax(const Task& task, const CpuTarget& target) {
  std::optional<SoftmaxForm> form = analyze_softmax(task);
  if (!form) return {};
  SoftmaxPlan plan{*form};
  plan.lanes = std::max(target.vector_bytes() / 4, 4);
  // Two partial vectors hide the latency of the maxima and the additions.
  plan.vectors = 2;
  const int64_t length = form->extents.back();
  if (length % (plan.lanes * plan.vectors) != 0 || length > kMaxSoftmaxRow) return {};
  return plan;
}

Function softmax_cpu(const Task& task, const SoftmaxPlan& plan) {
  const SoftmaxForm& f = plan.form;
  const int64_t length = f.extents.back(), width = plan.lanes * plan.vectors;
  TM_USER_CHECK(plan.lanes > 0 && plan.vectors > 0 && length % width == 0)
      << "softmax " << task.name() << ": rows of " << length << " are not whole vectors of "
      << width;
  const std::vector<int64_t> row_extents(f.extents.begin(), f.extents.end() - 1);
  const int64_t rows =
      std::accumulate(row_extents.begin(), row_extents.end(), int64_t{1}, std::multiplies<>());
  const int64_t chunks = length / width;

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", "softmax_cpu (" + std::to_string(plan.vectors) + "x" +
                          std::to_string(plan.lanes) + " partial results)");
  kb.attr("problem", std::to_string(rows) + " rows of " + std::to_string(length));
  const Var& out = task.output_params()[0];
  kb.for_range("w", rows, LoopHint::parallel(), [&](const Var& w) {
    std::vector<Expr> index = unravel_index(w, row_extents);
    Var row = kb.register_tensor("row", f32, Layout::row_major({length}));
    Var part = kb.register_tensor("part", f32, Layout::row_major({width}));
    // Every element of the row: `body(j, u)` for j = i · width + u, u vectorized.
    auto each = [&](const std::function<void(const Expr&, const Var&)>& body) {
      kb.for_range("i", chunks, [&](const Var& i) {
        kb.for_range("u", width, LoopHint::vectorize(),
                     [&](const Var& u) { body(i * width + u, u); });
      });
    };
    auto fold = [&](ReduceOp op) { return fold_partials(kb, part, plan.lanes, plan.vectors, op); };
    auto x = [&](const Expr& j) {
      std::vector<std::pair<Var, Expr>> map;
      for (size_t d = 0; d < index.size(); ++d) map.emplace_back(f.axes[d], index[d]);
      map.emplace_back(f.axes.back(), j);
      return substitute(f.x, map);
    };
    // The row, read once (a fused prologue runs here), and its maximum.
    kb.for_range("u", width, LoopHint::vectorize(), [&](const Var& u) {
      kb.store(part, {u}, float_imm(-std::numeric_limits<double>::infinity()));
    });
    each([&](const Expr& j, const Var& u) {
      kb.store(row, {j}, x(j));
      kb.store(part, {u}, combine_reduction(ReduceOp::max, load(part, {u}), load(row, {j})));
    });
    Var max = kb.scalar("max", f32, fold(ReduceOp::max));
    // Its exponentials, once each, and their sum.
    kb.for_range("u", width, LoopHint::vectorize(),
                 [&](const Var& u) { kb.store(part, {u}, float_imm(0.0)); });
    each([&](const Expr& j, const Var& u) {
      kb.store(row, {j}, call("exp", {load(row, {j}) - max}, f32));
      kb.store(part, {u}, load(part, {u}) + load(row, {j}));
    });
    Var scale = kb.scalar("scale", f32, float_imm(1.0) / fold(ReduceOp::sum));
    each([&](const Expr& j, const Var&) {
      std::vector<Expr> at = index;
      at.push_back(j);
      kb.store(out, at, load(row, {j}) * scale);
    });
  });
  return kb.build();
}

}  // namespace taskmap::schedules
