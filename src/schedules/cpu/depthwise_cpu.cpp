// The depthwise-convolution template (depthwise_cpu.h): recognition on top of the window form.
#include "taskmap/schedules/depthwise_cpu.h"

#include <vector>

#include "schedules/cpu/template_util.h"
#include "taskmap/ir/functor.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

bool reads_any(const Expr& e, const std::vector<Var>& vars) {
  for (const Var& v : free_vars(e))
    for (const Var& u : vars)
      if (u.same_as(v)) return true;
  return false;
}

bool reads_tensor(const Expr& e) {
  for (const Var& v : free_vars(e))
    if (v.type().is_tensor()) return true;
  return false;
}

// The term is x · w, or select(inside, x · w, 0) for a padded window, where one factor (the
// weight) reads inputs but no batch or spatial axis and the other slides along ow.
bool is_depthwise_term(const WindowForm& f) {
  Expr body = f.term;
  if (const auto* s = body.as<SelectNode>(); s != nullptr && is_float_zero(s->false_value))
    body = s->true_value;
  const auto* product = body.as<BinaryNode>();
  if (product == nullptr || product->op != BinaryOp::mul) return false;
  const std::vector<Var> sliding = {f.axes[0], f.axes[2], f.axes[3]};
  auto is_weight = [&](const Expr& e) { return reads_tensor(e) && !reads_any(e, sliding); };
  auto is_data = [&](const Expr& e) { return reads_any(e, {f.axes[3]}); };
  return (is_weight(product->a) && is_data(product->b)) ||
         (is_weight(product->b) && is_data(product->a));
}

}  // namespace

std::optional<DepthwisePlan> plan_depthwise(const Task& task, const CpuTarget& target) {
  std::optional<WindowForm> form = analyze_window(task);
  if (!form || form->op != ReduceOp::sum || !is_depthwise_term(*form)) return {};
  return DepthwisePlan{*form, default_window_config(target, *form)};
}

Function depthwise_cpu(const Task& task, const DepthwisePlan& plan) {
  return window_cpu(task, plan.form, plan.config, "depthwise_cpu");
}

}  // namespace taskmap::schedules
