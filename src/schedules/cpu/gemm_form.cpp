// Recognizing contractions (gemm_cpu.h): which tasks the packed GEMM template implements.
#include <algorithm>
#include <unordered_set>

#include "schedules/cpu/template_util.h"
#include "taskmap/ir/functor.h"
#include "taskmap/schedules/gemm_cpu.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

// Below these sizes the packing and the padding of the register tile cost more than they
// save (matrix-vector products are memory-bound): the auto-scheduler does better.
constexpr int64_t kMinM = 4, kMinN = 16, kMinK = 8;

using VarSet = std::unordered_set<const ExprNode*>;

// The index variables `e` reads (tensors it loads from are not counted).
VarSet vars_of(const Expr& e) {
  VarSet out;
  for (const Var& v : free_vars(e))
    if (!v.type().is_tensor()) out.insert(v.get());
  return out;
}

bool subset(const VarSet& a, const VarSet& b) {
  return std::all_of(a.begin(), a.end(), [&](const ExprNode* v) { return b.count(v) > 0; });
}

}  // namespace

std::optional<GemmForm> analyze_gemm(const Task& task) {
  if (task.outputs().size() != 1 || collect_computes(task.outputs()).size() != 1) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr || out->type.dtype() != f32) return {};
  std::vector<const ReduceNode*> reduces;
  post_order_visit(out->value, [&](const Expr& e) {
    if (const auto* r = e.as<ReduceNode>()) reduces.push_back(r);
  });
  if (reduces.size() != 1) return {};
  const ReduceNode* r = reduces[0];
  if (r->op != ReduceOp::sum || r->accumulate != f32 || r->type.dtype() != f32) return {};

  // The summand: x · y, or select(inside, x · y, 0) for a padded window.
  Expr body = r->value, cond;
  if (const auto* s = body.as<SelectNode>(); s != nullptr && is_float_zero(s->false_value)) {
    cond = s->cond;
    body = s->true_value;
  }
  const auto* product = body.as<BinaryNode>();
  if (product == nullptr || product->op != BinaryOp::mul || product->type.dtype() != f32) return {};
  Expr x = product->a, y = product->b;

  GemmForm form;
  form.axes = out->axes;
  form.extents = out->type.shape();
  form.k_axes = r->axes;
  form.k_extents = r->extents;
  VarSet out_vars, all_vars;
  for (const Var& v : form.axes) out_vars.insert(v.get());
  all_vars = out_vars;
  for (const Var& v : form.k_axes) all_vars.insert(v.get());
  VarSet x_vars = vars_of(x), y_vars = vars_of(y);
  if (!subset(x_vars, all_vars) || !subset(y_vars, all_vars)) return {};
  if (cond.defined()) {
    VarSet c_vars = vars_of(cond);
    VarSet c_out;
    for (const ExprNode* v : c_vars)
      if (out_vars.count(v)) c_out.insert(v);
    if (!subset(c_vars, all_vars)) return {};
    Expr zero = float_imm(0.0);
    if (subset(c_out, x_vars)) {
      x = select(cond, x, zero);
    } else if (subset(c_out, y_vars)) {
      y = select(cond, y, zero);
    } else {
      return {};
    }
  }

  // Which factor is B (vectorized along n): the one reading the innermost output axis that
  // only one factor reads, so that the final stores run along memory.
  std::vector<int> x_only, y_only, both;
  for (int i = 0; i < static_cast<int>(form.axes.size()); ++i) {
    const ExprNode* v = form.axes[i].get();
    bool in_x = x_vars.count(v) > 0, in_y = y_vars.count(v) > 0;
    if (in_x && !in_y) x_only.push_back(i);
    if (in_y && !in_x) y_only.push_back(i);
    if (in_x == in_y) both.push_back(i);  // read by both, or by neither (an extent-1 axis)
  }
  bool x_is_b = !x_only.empty() && (y_only.empty() || x_only.back() > y_only.back());
  form.a = x_is_b ? y : x;
  form.b = x_is_b ? x : y;
  form.m = x_is_b ? y_only : x_only;
  form.n = x_is_b ? x_only : y_only;
  form.batch = both;
  for (int i : form.batch) form.batch_size *= form.extents[i];
  for (int i : form.m) form.m_size *= form.extents[i];
  for (int i : form.n) form.n_size *= form.extents[i];
  for (int64_t e : form.k_extents) form.k_size *= e;
  if (form.m_size < kMinM || form.n_size < kMinN || form.k_size < kMinK) return {};

  form.sum = var("sum", f32);
  form.epilogue = replace_reductions(out->value, form.sum);
  return form;
}

}  // namespace taskmap::schedules
