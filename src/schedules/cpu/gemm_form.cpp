// Recognizing contractions (gemm_cpu.h): which tasks the packed GEMM template implements.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "arith/linear.h"
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

// The facts `cond` states as conjuncts `form >= 0` (from `a <= b` and `a < b`).
void nonnegative_facts(const Expr& cond, std::vector<arith::LinearForm>& facts) {
  const auto* b = cond.as<BinaryNode>();
  if (b == nullptr) return;
  if (b->op == BinaryOp::logical_and) {
    nonnegative_facts(b->a, facts);
    nonnegative_facts(b->b, facts);
    return;
  }
  if (b->op != BinaryOp::le && b->op != BinaryOp::lt) return;
  std::optional<arith::LinearForm> f = arith::linear_form(b->b);
  if (!f || !arith::add_scaled(*f, b->a, -1)) return;
  if (b->op == BinaryOp::lt) f->constant -= 1;
  facts.push_back(*f);
}

bool same_form(const arith::LinearForm& a, const arith::LinearForm& b) {
  arith::LinearForm difference = a;
  return arith::add_scaled(difference, arith::linear_expr(b), -1) && difference.terms.empty() &&
         difference.constant == 0;
}

// A factor read as one load, alone or under a padding condition `select(inside, load, 0)`.
struct FactorLoad {
  const LoadNode* load = nullptr;
  Expr inside;  // undefined without a condition
};

FactorLoad factor_load(const Expr& factor) {
  FactorLoad out;
  Expr e = factor;
  if (const auto* s = e.as<SelectNode>(); s != nullptr && is_float_zero(s->false_value)) {
    out.inside = s->cond;
    e = s->true_value;
  }
  out.load = e.as<LoadNode>();
  return out;
}

// `index` (of a dim of `extent`) without the clamps min(·, extent - 1) and max(·, 0) that
// `facts` show to be no-ops: a padded window clamps its reads into the image, and where its
// condition holds they are inside already. Nothing when a clamp is not shown to be a no-op.
std::optional<Expr> strip_clamps(const Expr& index, int64_t extent,
                                 const std::vector<arith::LinearForm>& facts) {
  const auto* b = index.as<BinaryNode>();
  if (b == nullptr || (b->op != BinaryOp::min && b->op != BinaryOp::max)) return index;
  const auto* bound = b->b.as<IntImmNode>();
  const int64_t wanted = b->op == BinaryOp::min ? extent - 1 : 0;
  if (bound == nullptr || bound->value != wanted) return {};
  std::optional<Expr> inner = strip_clamps(b->a, extent, facts);
  if (!inner) return {};
  // min(x, e - 1) needs the fact e - 1 - x >= 0; max(x, 0) needs x >= 0.
  std::optional<arith::LinearForm> need = arith::linear_form(*inner);
  if (!need) return {};
  if (b->op == BinaryOp::min) {
    arith::LinearForm neg;
    neg.dtype = need->dtype;
    if (!arith::add_scaled(neg, *inner, -1)) return {};
    neg.constant += extent - 1;
    need = neg;
  }
  for (const arith::LinearForm& f : facts)
    if (same_form(f, *need)) return inner;
  return {};
}

}  // namespace

std::optional<GemmForm> analyze_gemm(const Task& task, GemmOutputs outputs) {
  if (task.outputs().size() != 1 || collect_computes(task.outputs()).size() != 1) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr) return {};
  const DType out_dtype = out->type.dtype();
  const bool narrow = outputs == GemmOutputs::any_float && (out_dtype == f16 || out_dtype == bf16);
  if (out_dtype != f32 && !narrow) return {};
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

namespace {

// Whether `ld` reads along memory as `axis` steps: only its last index reads the axis, with
// coefficient 1 (clamps that keep a window inside the image do not change the step).
bool load_runs_along(const LoadNode* ld, const Var& axis) {
  if (ld == nullptr || ld->indices.empty()) return false;
  Expr last = ld->indices.back();
  while (const auto* c = last.as<BinaryNode>()) {
    if (c->op != BinaryOp::min && c->op != BinaryOp::max) break;
    last = c->a;
  }
  for (size_t d = 0; d + 1 < ld->indices.size(); ++d)
    for (const Var& v : free_vars(ld->indices[d]))
      if (v.same_as(axis)) return false;
  std::optional<arith::LinearForm> form = arith::linear_form(last);
  if (!form) return false;
  for (const arith::LinearTerm& t : form->terms)
    if (t.expr.same_as(axis)) return t.coeff == 1;
  return false;
}

// Whether `factor` reads along memory as the innermost non-unit axis of `dims` steps.
bool runs_along_innermost(const GemmForm& f, const Expr& factor, const std::vector<int>& dims) {
  const LoadNode* ld = factor_load(factor).load;
  if (ld == nullptr || ld->indices.empty()) return false;
  const Var* innermost = nullptr;
  for (int d : dims)
    if (f.extents[d] > 1) innermost = &f.axes[d];
  if (innermost == nullptr) return true;
  return load_runs_along(ld, *innermost);
}

// A is a bare f32 load (no padding select, no arithmetic to repeat for every panel of B) of a
// tensor whose rows run along the last reduction axis.
bool a_bare_along_k(const GemmForm& f) {
  const auto* ld = f.a.as<LoadNode>();
  return ld != nullptr && !f.k_axes.empty() && f.a.dtype() == f32 &&
         ld->buffer.as<VarNode>() != nullptr && ld->buffer.type().is_tensor() &&
         load_runs_along(ld, f.k_axes.back());
}

}  // namespace

bool b_runs_along_n(const GemmForm& f) {
  return runs_along_innermost(f, f.b, f.n);
}

bool a_runs_along_m(const GemmForm& f) {
  return runs_along_innermost(f, f.a, f.m);
}

bool a_runs_along_k(const GemmForm& f) {
  return !f.k_axes.empty() && load_runs_along(factor_load(f.a).load, f.k_axes.back());
}

Expr a_run_padding(const GemmForm& f) {
  const Expr inside = factor_load(f.a).inside;
  if (!inside.defined() || f.k_axes.empty() || vars_of(inside).count(f.k_axes.back().get()) > 0)
    return {};
  return inside;
}

bool window_readable_in_place(const GemmForm& f) {
  // Several reduction axes: an unpadded window (a padded one masks its reads) over channels.
  return f.k_axes.size() >= 2 && a_bare_along_k(f);
}

bool a_readable_in_place(const GemmForm& f) {
  return f.k_axes.size() == 1 && a_bare_along_k(f);
}

std::optional<ContiguousFactor> contiguous_b(const GemmForm& f) {
  return contiguous_factor(f, 1);
}

std::optional<ContiguousFactor> contiguous_factor(const GemmForm& f, int side) {
  std::optional<ContiguousFactor> c = offset_factor(f, side);
  if (!c || c->position.defined()) return {};
  return c;
}

std::optional<ContiguousFactor> offset_factor(const GemmForm& f, int side) {
  const std::vector<int>& along = side == 0 ? f.m : f.n;
  const auto [ld, inside] = factor_load(side == 0 ? f.a : f.b);
  if (ld == nullptr || ld->buffer.as<VarNode>() == nullptr || !ld->buffer.type().is_tensor() ||
      ld->type.dtype() != f32)
    return {};
  // Axes of extent 1 are 0. The flat position must split into a part over the batch and k
  // axes and a part over the m (A) or n (B) axes; the factor is contiguous where that part
  // steps by the row-major strides of their extents.
  std::vector<std::pair<Var, Expr>> units;
  for (size_t d = 0; d < f.axes.size(); ++d)
    if (f.extents[d] == 1) units.emplace_back(f.axes[d], int_imm(0));
  std::unordered_map<const ExprNode*, int64_t> stride_of;
  int64_t stride = 1;
  for (size_t i = along.size(); i-- > 0;) {
    const int d = along[i];
    if (f.extents[d] > 1) stride_of[f.axes[d].get()] = stride;
    stride *= f.extents[d];
  }
  const std::vector<int64_t>& shape = ld->buffer.type().shape();
  std::vector<arith::LinearForm> facts;
  if (inside.defined()) nonnegative_facts(inside, facts);
  Index index;
  for (size_t d = 0; d < shape.size(); ++d) {
    std::optional<Expr> unclamped = strip_clamps(ld->indices[d], shape[d], facts);
    if (!unclamped) return {};
    index.push_back(*unclamped);
  }
  std::optional<arith::LinearForm> flat =
      arith::linear_form(substitute(flat_index(index, shape), units));
  if (!flat) return {};
  VarSet offset_vars;
  for (const Var& v : f.k_axes) offset_vars.insert(v.get());
  for (int d : f.batch) offset_vars.insert(f.axes[d].get());
  arith::LinearForm rest, position;
  rest.dtype = position.dtype = flat->dtype;
  rest.constant = flat->constant;
  size_t matched = 0;
  for (const arith::LinearTerm& t : flat->terms) {
    if (auto it = stride_of.find(t.expr.get()); it != stride_of.end()) {
      matched += t.coeff == it->second;
      position.terms.push_back(t);
      continue;
    }
    for (const Var& v : free_vars(t.expr))
      if (!offset_vars.count(v.get())) return {};  // mixes axes, or a data-dependent position
    rest.terms.push_back(t);
  }
  ContiguousFactor c{Var::from(ld->buffer), arith::linear_expr(rest), Expr(), Expr()};
  if (matched != stride_of.size() || position.terms.size() != stride_of.size())
    c.position = arith::linear_expr(position);
  if (inside.defined()) {
    // The masks are tabulated per column and inner window position, so `inside` may read
    // only those.
    VarSet allowed;
    for (int d : along) allowed.insert(f.axes[d].get());
    for (size_t d = 1; d < f.k_axes.size(); ++d) allowed.insert(f.k_axes[d].get());
    c.inside = substitute(inside, units);
    for (const Var& v : free_vars(c.inside))
      if (!allowed.count(v.get())) return {};
  }
  return c;
}

std::vector<std::pair<Var, Expr>> gemm_bindings(const GemmForm& f, const Expr& batch,
                                                const Expr& row, const Expr& col, const Expr& k) {
  std::vector<std::pair<Var, Expr>> map;
  auto bind = [&](const std::vector<int>& dims, const Expr& flat) {
    std::vector<int64_t> extents;
    for (int d : dims) extents.push_back(f.extents[d]);
    std::vector<Expr> index = unravel_index(flat, extents);
    for (size_t i = 0; i < dims.size(); ++i) map.emplace_back(f.axes[dims[i]], index[i]);
  };
  bind(f.batch, batch);
  if (row.defined()) bind(f.m, row);
  if (col.defined()) bind(f.n, col);
  if (k.defined()) {
    std::vector<Expr> index = unravel_index(k, f.k_extents);
    for (size_t i = 0; i < f.k_axes.size(); ++i) map.emplace_back(f.k_axes[i], index[i]);
  }
  return map;
}

std::vector<Expr> gemm_output_index(const GemmForm& f,
                                    const std::vector<std::pair<Var, Expr>>& map) {
  std::vector<Expr> index;
  for (const Var& axis : f.axes) {
    auto it =
        std::find_if(map.begin(), map.end(), [&](const auto& b) { return b.first.same_as(axis); });
    index.push_back(it->second);
  }
  return index;
}

}  // namespace taskmap::schedules
