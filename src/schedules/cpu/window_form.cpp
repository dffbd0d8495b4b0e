// Recognizing sliding-window reductions (window_cpu.h): which tasks the window template
// implements, and which of their rows and columns need no masking.
#include <algorithm>
#include <tuple>
#include <utility>

#include "taskmap/arith/bound.h"
#include "taskmap/ir/functor.h"
#include "taskmap/schedules/window_cpu.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

// Reductions that read no input (AveragePool's count of window positions inside the input) are
// unrolled into the epilogue up to this many positions.
constexpr int64_t kMaxUnrolledCount = 64;

bool reads_tensor(const Expr& e) {
  for (const Var& v : free_vars(e))
    if (v.type().is_tensor()) return true;
  return false;
}

bool reads(const Expr& e, const Var& v) {
  for (const Var& u : free_vars(e))
    if (u.same_as(v)) return true;
  return false;
}

// The constant indices of position `k` (row-major) of a window with the given extents.
std::vector<Expr> position(int64_t k, const std::vector<int64_t>& extents) {
  std::vector<Expr> index(extents.size());
  for (size_t d = extents.size(); d-- > 0;) {
    index[d] = int_imm(k % extents[d]);
    k /= extents[d];
  }
  return index;
}

// The compute's value with the window reduction replaced by `acc` (divided by the window size
// for a mean) and every other reduction, which reads no input, unrolled term by term.
class EpilogueMaker : public IRMutator {
 public:
  EpilogueMaker(const ReduceNode* window, Expr acc) : window_(window), acc_(std::move(acc)) {}
  bool failed = false;

 protected:
  Expr mutate_Reduce(const ReduceNode* op, const Expr& self) override {
    if (op == window_) return acc_;
    int64_t count = 1;
    for (int64_t e : op->extents) count *= e;
    const bool combinable = op->op == ReduceOp::sum || op->op == ReduceOp::prod ||
                            op->op == ReduceOp::max || op->op == ReduceOp::min;
    if (!combinable || count < 1 || count > kMaxUnrolledCount || contains_reduce(op->value)) {
      failed = true;
      return self;
    }
    Expr result;
    for (int64_t k = 0; k < count; ++k) {
      std::vector<std::pair<Var, Expr>> map;
      std::vector<Expr> index = position(k, op->extents);
      for (size_t d = 0; d < op->axes.size(); ++d) map.emplace_back(op->axes[d], index[d]);
      Expr v = cast(op->accumulate, substitute(op->value, map));
      if (!result.defined()) {
        result = v;
      } else if (op->op == ReduceOp::sum) {
        result = result + v;
      } else if (op->op == ReduceOp::prod) {
        result = result * v;
      } else {
        result = op->op == ReduceOp::max ? max(result, v) : min(result, v);
      }
    }
    return result;
  }

 private:
  const ReduceNode* window_;
  Expr acc_;
};

// Whether a load reads through any output or window axis (a weight or scalar read by
// constant indices does not constrain the layout).
bool reads_tensor_index(const LoadNode* ld, const WindowForm& f) {
  for (const Expr& index : ld->indices) {
    for (const Var& a : f.axes)
      if (reads(index, a)) return true;
    for (const Var& a : f.r_axes)
      if (reads(index, a)) return true;
  }
  return false;
}

void conjuncts(const Expr& cond, std::vector<Expr>& out) {
  const auto* b = cond.as<BinaryNode>();
  if (b != nullptr && b->op == BinaryOp::logical_and) {
    conjuncts(b->a, out);
    conjuncts(b->b, out);
    return;
  }
  out.push_back(cond);
}

// The longest run [begin, end) of positions along output axis `d` where every condition holds
// for every window position (and every value of the other axes).
std::pair<int64_t, int64_t> proven_run(const WindowForm& f, size_t d,
                                       const std::vector<Expr>& conditions) {
  arith::BoundAnalyzer bounds;
  for (size_t i = 0; i < f.axes.size(); ++i) bounds.bind_range(f.axes[i], f.extents[i]);
  for (size_t i = 0; i < f.r_axes.size(); ++i) bounds.bind_range(f.r_axes[i], f.r_extents[i]);
  int64_t best_begin = 0, best_length = 0, run_begin = 0;
  for (int64_t o = 0; o <= f.extents[d]; ++o) {
    bool holds = o < f.extents[d];
    if (holds) {
      bounds.bind(f.axes[d], arith::IntBound::point(o));
      holds = std::all_of(conditions.begin(), conditions.end(),
                          [&](const Expr& c) { return bounds.can_prove(c); });
    }
    if (holds) continue;
    if (o - run_begin > best_length) {
      best_begin = run_begin;
      best_length = o - run_begin;
    }
    run_begin = o + 1;
  }
  return {best_begin, best_begin + best_length};
}

// Fills the interior rows and columns of `f` from the masking conditions of its term.
void find_interior(WindowForm& f) {
  std::vector<Expr> conditions;
  post_order_visit(f.term, [&](const Expr& e) {
    if (const auto* s = e.as<SelectNode>()) conjuncts(s->cond, conditions);
  });
  std::vector<Expr> row_conditions, col_conditions;
  bool separable = true;
  for (const Expr& c : conditions) {
    if (reads_tensor(c)) continue;  // data-dependent: no region removes it
    const bool h = reads(c, f.axes[f.row_axis()]), w = reads(c, f.axes[f.col_axis()]);
    if (h && w) separable = false;
    if (h && !w) row_conditions.push_back(c);
    if (w && !h) col_conditions.push_back(c);
  }
  if (!separable) return;  // every row and column is a border
  std::tie(f.row_begin, f.row_end) = proven_run(f, f.row_axis(), row_conditions);
  std::tie(f.col_begin, f.col_end) = proven_run(f, f.col_axis(), col_conditions);
}

}  // namespace

std::optional<WindowForm> analyze_window(const Task& task, bool channels_last) {
  if (task.outputs().size() != 1 || collect_computes(task.outputs()).size() != 1) return {};
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr || out->type.dtype() != f32 || out->axes.size() != 4) return {};
  const std::vector<int64_t>& extents = out->type.shape();
  if (std::find(extents.begin(), extents.end(), 0) != extents.end()) return {};
  std::vector<const ReduceNode*> windows;
  post_order_visit(out->value, [&](const Expr& e) {
    if (const auto* r = e.as<ReduceNode>(); r != nullptr && reads_tensor(r->value))
      windows.push_back(r);
  });
  if (windows.size() != 1) return {};
  const ReduceNode* r = windows[0];
  if (r->op != ReduceOp::sum && r->op != ReduceOp::mean && r->op != ReduceOp::max &&
      r->op != ReduceOp::min)
    return {};
  if (r->accumulate != f32 || r->value.dtype() != f32 || contains_reduce(r->value)) return {};

  WindowForm f;
  f.channels_last = channels_last;
  f.axes = out->axes;
  f.extents = extents;
  f.r_axes = r->axes;
  f.r_extents = r->extents;
  for (int64_t e : f.r_extents) f.window *= e;
  if (f.window < 1 || f.window > kMaxWindow) return {};
  f.op = r->op == ReduceOp::mean ? ReduceOp::sum : r->op;
  f.term = r->value;
  // The term reads only the output and window axes, and slides along ow.
  for (const Var& v : free_vars(f.term)) {
    if (v.type().is_tensor()) continue;
    auto same = [&](const Var& a) { return a.same_as(v); };
    if (std::none_of(f.axes.begin(), f.axes.end(), same) &&
        std::none_of(f.r_axes.begin(), f.r_axes.end(), same))
      return {};
  }
  if (!reads(f.term, f.axes[f.col_axis()])) return {};
  // ... and, NCHW, the window slides along memory: some load's last index reads ow and a
  // window axis. Channels last, every load's last index is the channel alone, along which no
  // window moves.
  bool slides = false, channel_last = true;
  post_order_visit(f.term, [&](const Expr& e) {
    const auto* ld = e.as<LoadNode>();
    if (ld == nullptr || ld->indices.empty()) return;
    const Expr& last = ld->indices.back();
    if (reads(last, f.axes[3]))
      for (const Var& r : f.r_axes) slides |= reads(last, r);
    channel_last &= last.same_as(f.axes[3]) || !reads_tensor_index(ld, f);
  });
  if (channels_last ? (slides || !channel_last) : !slides) return {};

  f.acc = var("acc", f32);
  Expr acc = f.acc;
  if (r->op == ReduceOp::mean) acc = acc / make_const(f32, static_cast<double>(f.window));
  EpilogueMaker maker(r, acc);
  f.epilogue = maker.mutate(out->value);
  if (maker.failed) return {};
  find_interior(f);
  return f;
}

}  // namespace taskmap::schedules
