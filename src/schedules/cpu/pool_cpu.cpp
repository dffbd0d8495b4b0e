// The pooling templates (pool_cpu.h): window pooling on top of the window form, and reductions
// over the trailing axes with vectorized partial results.
#include "taskmap/schedules/pool_cpu.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

int tensors_read(const Expr& e) {
  int count = 0;
  for (const Var& v : free_vars(e)) count += v.type().is_tensor() ? 1 : 0;
  return count;
}

bool is_one_of(const Expr& e, const std::vector<Var>& vars) {
  return std::any_of(vars.begin(), vars.end(), [&](const Var& v) { return v.same_as(e); });
}

// Checks that the reduction axes appear only as the trailing indices of loads, in order.
class TrailingAxesCheck : public IRVisitor {
 public:
  explicit TrailingAxesCheck(const std::vector<Var>& r_axes) : r_axes_(r_axes) {}
  bool ok = true;
  int sliding_loads = 0;  // loads that read the reduction axes

 protected:
  void visit_Var(const VarNode* op) override {
    if (std::any_of(r_axes_.begin(), r_axes_.end(), [&](const Var& v) { return v.get() == op; }))
      ok = false;  // a reduction axis outside a trailing index
  }
  void visit_Load(const LoadNode* op) override {
    const size_t n = op->indices.size(), k = r_axes_.size();
    bool trailing = n >= k;
    for (size_t i = 0; trailing && i < k; ++i)
      trailing = op->indices[n - k + i].same_as(r_axes_[i]);
    if (!trailing) return IRVisitor::visit_Load(op);
    ++sliding_loads;
    visit(op->buffer);
    for (size_t i = 0; i + k < n; ++i) visit(op->indices[i]);
  }

 private:
  const std::vector<Var>& r_axes_;
};

Expr identity(ReduceOp op) {
  return float_imm(op == ReduceOp::max ? -std::numeric_limits<double>::infinity() : 0.0);
}

}  // namespace

std::optional<PoolPlan> plan_pool(const Task& task, const CpuTarget& target) {
  std::optional<WindowForm> form = analyze_window(task);
  if (!form || tensors_read(form->term) != 1) return {};
  return PoolPlan{*form, default_window_config(target, *form)};
}

Function pool_cpu(const Task& task, const PoolPlan& plan) {
  return window_cpu(task, plan.form, plan.config, "pool_cpu");
}

std::optional<RowReduceForm> analyze_row_reduce(const Task& task) {
  if (task.outputs().size() != 1 || collect_computes(task.outputs()).size() != 1) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr || out->type.dtype() != f32) return {};
  const std::vector<int64_t>& extents = out->type.shape();
  if (std::find(extents.begin(), extents.end(), 0) != extents.end()) return {};
  std::vector<const ReduceNode*> reduces;
  post_order_visit(out->value, [&](const Expr& e) {
    if (const auto* r = e.as<ReduceNode>()) reduces.push_back(r);
  });
  if (reduces.size() != 1) return {};
  const ReduceNode* r = reduces[0];
  if (r->op != ReduceOp::sum && r->op != ReduceOp::mean && r->op != ReduceOp::max) return {};
  if (r->accumulate != f32 || r->value.dtype() != f32) return {};

  RowReduceForm f;
  f.axes = out->axes;
  f.extents = extents;
  f.r_axes = r->axes;
  f.r_extents = r->extents;
  for (int64_t e : f.r_extents) f.length *= e;
  if (f.r_axes.empty() || f.length < 1) return {};
  f.op = r->op == ReduceOp::mean ? ReduceOp::sum : r->op;
  f.term = r->value;
  TrailingAxesCheck check(f.r_axes);
  check.visit(f.term);
  if (!check.ok || check.sliding_loads == 0) return {};
  for (const Var& v : free_vars(f.term)) {
    if (!v.type().is_tensor() && !is_one_of(v, f.axes) && !is_one_of(v, f.r_axes)) return {};
  }
  f.acc = var("acc", f32);
  Expr acc = f.acc;
  if (r->op == ReduceOp::mean) acc = acc / make_const(f32, static_cast<double>(f.length));
  f.epilogue = replace_reductions(out->value, acc);
  return f;
}

std::optional<RowReducePlan> plan_row_reduce(const Task& task, const CpuTarget& target) {
  std::optional<RowReduceForm> form = analyze_row_reduce(task);
  if (!form) return {};
  RowReducePlan plan{*form};
  plan.lanes = std::max(target.vector_bytes() / 4, 4);
  if (form->length < plan.lanes) return {};
  // Partial vectors hide the latency of the additions, as long as the length fills them.
  plan.vectors = 1;
  while (plan.vectors < 4 && 2 * plan.vectors * plan.lanes <= form->length) plan.vectors *= 2;
  return plan;
}

Function row_reduce_cpu(const Task& task, const RowReducePlan& plan) {
  const RowReduceForm& f = plan.form;
  const int64_t width = plan.lanes * plan.vectors;
  TM_USER_CHECK(plan.lanes > 0 && plan.vectors > 0 && width <= f.length)
      << "row reduction " << task.name() << ": " << plan.vectors << " vectors of " << plan.lanes
      << " lanes are more than the " << f.length << " elements reduced per output";
  int64_t outputs = 1;
  for (int64_t e : f.extents) outputs *= e;
  const int64_t chunks = f.length / width, rest = f.length % width;

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", "row_reduce_cpu (" + std::to_string(plan.vectors) + "x" +
                          std::to_string(plan.lanes) + " partial results)");
  kb.attr("problem",
          std::to_string(outputs) + " outputs of " + std::to_string(f.length) + " elements");
  const Var& out = task.output_params()[0];
  kb.for_range("w", outputs, LoopHint::parallel(), [&](const Var& w) {
    const std::vector<Expr> index = unravel_index(w, f.extents);
    std::vector<std::pair<Var, Expr>> at_output;
    for (size_t d = 0; d < f.axes.size(); ++d) at_output.emplace_back(f.axes[d], index[d]);
    auto term = [&](const Expr& flat) {
      std::vector<std::pair<Var, Expr>> map = at_output;
      std::vector<Expr> r = unravel_index(flat, f.r_extents);
      for (size_t d = 0; d < f.r_axes.size(); ++d) map.emplace_back(f.r_axes[d], r[d]);
      return substitute(f.term, map);
    };
    Var part = kb.register_tensor("part", f32, Layout::row_major({width}));
    auto lanes = [&](const std::function<void(const Var&)>& body) {
      kb.for_range("u", width, LoopHint::vectorize(), body);
    };
    lanes([&](const Var& u) { kb.store(part, {u}, term(u)); });
    if (chunks > 1) {
      kb.for_range("i", chunks - 1, [&](const Var& i) {
        lanes([&](const Var& u) {
          kb.store(part, {u}, combine_reduction(f.op, load(part, {u}), term((i + 1) * width + u)));
        });
      });
    }
    // The ragged end re-reads the last `width` elements and takes the lanes not yet counted:
    // full-width stores only (a narrower store before the vector loads below would stall).
    if (rest > 0) {
      lanes([&](const Var& u) {
        Expr fresh = select(u >= width - rest, term(f.length - width + u), identity(f.op));
        kb.store(part, {u}, combine_reduction(f.op, load(part, {u}), fresh));
      });
    }
    // The partial vectors, folded and reduced across lanes.
    Expr acc = fold_partials(kb, part, plan.lanes, plan.vectors, f.op);
    std::vector<std::pair<Var, Expr>> map = at_output;
    map.emplace_back(f.acc, acc);
    kb.store(out, index, substitute(f.epilogue, map));
  });
  return kb.build();
}

}  // namespace taskmap::schedules
