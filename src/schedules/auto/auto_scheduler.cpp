#include "taskmap/schedules/auto_scheduler.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::schedules {

using namespace ir;

std::string kernel_name(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "k_" + out;
  return out;
}

namespace {

// The identity element of a reduction (the lowest / highest value for max / min).
Expr reduce_init(ReduceOp op, DType dtype) {
  const double inf = std::numeric_limits<double>::infinity();
  auto extreme = [&](bool lowest) -> Expr {
    if (dtype.is_float()) return float_imm(lowest ? -inf : inf, dtype);
    if (dtype.is_bool()) return bool_imm(!lowest);
    int bits = dtype.bits();
    if (!dtype.is_signed()) return int_imm(lowest ? 0 : (int64_t{1} << bits) - 1, dtype);
    int64_t hi = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
    return int_imm(lowest ? -hi - 1 : hi, dtype);
  };
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean:
      return make_const(dtype, 0);
    case ReduceOp::prod:
      return make_const(dtype, 1);
    case ReduceOp::max:
    case ReduceOp::argmax:
      return extreme(true);
    case ReduceOp::min:
    case ReduceOp::argmin:
      return extreme(false);
  }
  TM_UNREACHABLE();
}

// Partial results per lane of a vectorized f32 reduction: two AVX-512 vectors (four AVX2 ones),
// enough independent additions to hide their latency.
constexpr int64_t kPartialLanes = 32;

// A last output dim of at most this many elements is unrolled inside a vectorized loop over
// the dim before it (see auto_schedule_cpu).
constexpr int64_t kUnrolledLastDim = 4;

// Reductions of at most this many terms are unrolled (see mutate_Reduce).
constexpr int64_t kUnrolledTerms = 16;

class ReductionLowerer : public IRMutator {
 public:
  explicit ReductionLowerer(std::vector<Stmt>& stmts) : stmts_(stmts) {}

 protected:
  // An f32 sum, mean or max whose innermost axis fills the partial lanes: each lane keeps its
  // own partial result over a strided share of that axis, in a loop the C compiler vectorizes,
  // and the lanes are folded at the end. A scalar float reduction stays scalar (the compiler
  // may not reorder its additions): softmax and layer norm rows took 10-20x longer that way.
  // The order of the additions changes, as in any vectorized sum.
  std::optional<Expr> vectorized(const ReduceNode* op) {
    const bool sum = op->op == ReduceOp::sum || op->op == ReduceOp::mean;
    if ((!sum && op->op != ReduceOp::max) || op->accumulate != f32 || op->value.dtype() != f32 ||
        op->axes.empty() || op->extents.back() < kPartialLanes || contains_reduce(op->value))
      return {};
    const ReduceOp kind = sum ? ReduceOp::sum : ReduceOp::max;
    const Expr identity = reduce_init(kind, f32);
    const int64_t width = kPartialLanes, length = op->extents.back();
    const int64_t chunks = length / width, rest = length % width;
    const Var& inner = op->axes.back();
    Var part = var("part", Type::tensor(f32, {width}));
    stmts_.push_back(declare(part, {}, StorageScope::local));
    auto lanes = [&](const std::function<Stmt(const Var&)>& body) {
      Var u = var("u", i64);
      return for_loop(u, int_imm(width), body(u), LoopHint::vectorize());
    };
    auto term = [&](const Expr& position) { return substitute(op->value, {{inner, position}}); };
    stmts_.push_back(lanes([&](const Var& u) { return store(part, {u}, identity); }));
    std::vector<Stmt> body;
    Var i = var("i", i64);
    body.push_back(for_loop(
        i, int_imm(chunks), lanes([&](const Var& u) {
          return store(part, {u}, combine_reduction(kind, load(part, {u}), term(i * width + u)));
        })));
    // The ragged end re-reads the last `width` elements and takes the lanes not yet counted.
    if (rest > 0) {
      body.push_back(lanes([&](const Var& u) {
        Expr fresh = select(u >= width - rest, term(length - width + u), identity);
        return store(part, {u}, combine_reduction(kind, load(part, {u}), fresh));
      }));
    }
    Stmt loop = seq(std::move(body));
    for (size_t d = op->axes.size() - 1; d-- > 0;)
      loop = for_loop(op->axes[d], int_imm(op->extents[d]), loop);
    stmts_.push_back(loop);
    // The lanes folded in halves, each step a vector loop (a scalar fold of 32 partial results
    // cost as much as the reduction of a 128-element row).
    for (int64_t half = width / 2; half >= 1; half /= 2) {
      Var u = var("u", i64);
      stmts_.push_back(for_loop(
          u, int_imm(half),
          store(part, {u}, combine_reduction(kind, load(part, {u}), load(part, {u + half}))),
          LoopHint::vectorize()));
    }
    Expr acc = load(part, {int_imm(0)});
    if (op->op != ReduceOp::mean) return acc;
    int64_t count =
        std::accumulate(op->extents.begin(), op->extents.end(), int64_t{1}, std::multiplies<>());
    return acc / make_const(f32, static_cast<double>(count));
  }

  Expr mutate_Reduce(const ReduceNode* op, const Expr&) override {
    if (std::optional<Expr> v = vectorized(op)) return *v;
    DType acc_t = op->accumulate;
    bool arg = op->op == ReduceOp::argmax || op->op == ReduceOp::argmin;
    Var acc = var(arg ? "best" : "acc", acc_t);
    stmts_.push_back(declare(acc, reduce_init(op->op, acc_t)));
    Var pos;
    if (arg) {
      pos = var("best_index", i64);
      stmts_.push_back(declare(pos, int_imm(0)));
    }
    // The body of the innermost loop: nested reductions first, then the update.
    std::vector<Stmt> body;
    Expr v = ReductionLowerer(body).mutate(op->value);
    if (v.dtype() != acc_t) v = cast(acc_t, v);
    switch (op->op) {
      case ReduceOp::sum:
      case ReduceOp::mean:
        body.push_back(assign(acc, acc + v));
        break;
      case ReduceOp::prod:
        body.push_back(assign(acc, acc * v));
        break;
      case ReduceOp::max:
        body.push_back(assign(acc, max(acc, v)));
        break;
      case ReduceOp::min:
        body.push_back(assign(acc, min(acc, v)));
        break;
      case ReduceOp::argmax:
      case ReduceOp::argmin: {
        // Row-major position over the reduce axes; strict comparison keeps the first extreme.
        Expr position = int_imm(0);
        for (size_t d = 0; d < op->axes.size(); ++d)
          position = position * op->extents[d] + op->axes[d];
        Var value = var("value", acc_t);
        Expr better = op->op == ReduceOp::argmax ? value > acc : value < acc;
        body.push_back(let_stmt(
            value, v, if_then_else(better, seq({assign(acc, value), assign(pos, position)}))));
        break;
      }
    }
    // A small window (a channels-last pool's 3 × 3) is unrolled: the loop around it, over the
    // output's contiguous last axis, then holds straight-line code the C compiler vectorizes
    // (an inner loop left in it kept it scalar: 0.66-1.16 ms against 0.07-0.35 per Inception-v3
    // average pool).
    const int64_t terms =
        std::accumulate(op->extents.begin(), op->extents.end(), int64_t{1}, std::multiplies<>());
    const LoopHint hint = !arg && terms <= kUnrolledTerms ? LoopHint::unroll() : LoopHint{};
    Stmt loop = seq(std::move(body));
    for (size_t d = op->axes.size(); d-- > 0;) {
      loop = for_loop(op->axes[d], int_imm(op->extents[d]), loop, hint);
    }
    stmts_.push_back(loop);
    if (arg) return pos;
    if (op->op == ReduceOp::mean) return acc / make_const(acc_t, static_cast<double>(terms));
    return acc;
  }

 private:
  std::vector<Stmt>& stmts_;
};

// Rewrites loads of computes: materialized ones read their buffer, the others are inlined.
class ComputeInliner : public IRMutator {
 public:
  explicit ComputeInliner(const std::unordered_map<const void*, Var>& buffers)
      : buffers_(buffers) {}

 protected:
  Expr mutate_Load(const LoadNode* op, const Expr& self) override {
    const auto* c = op->buffer.as<ComputeNode>();
    if (!c) return IRMutator::mutate_Load(op, self);
    bool changed = false;
    std::vector<Expr> indices = mutate_all(op->indices, &changed);
    auto it = buffers_.find(c);
    if (it != buffers_.end()) return load(it->second, indices);
    std::vector<std::pair<Var, Expr>> bind;
    for (size_t d = 0; d < c->axes.size(); ++d) bind.emplace_back(c->axes[d], indices[d]);
    return mutate(substitute(c->value, bind));
  }

 private:
  const std::unordered_map<const void*, Var>& buffers_;
};

}  // namespace

Expr lower_reductions(const Expr& value, std::vector<Stmt>& stmts) {
  return ReductionLowerer(stmts).mutate(value);
}

void emit_element(lang::KernelBuilder& kb, const ComputeNode& compute, const Expr& value,
                  const Var& out, const std::vector<Expr>& index) {
  std::vector<std::pair<Var, Expr>> bind;
  for (size_t d = 0; d < index.size(); ++d) bind.emplace_back(compute.axes[d], index[d]);
  std::vector<Stmt> stmts;
  Expr result = lower_reductions(substitute(value, bind), stmts);
  for (Stmt& s : stmts) kb.append(s);
  kb.store(out, index, result);
}

Expr inline_computes(const Expr& value, const std::unordered_map<const void*, Var>& buffers) {
  return ComputeInliner(buffers).mutate(value);
}

Function auto_schedule_cpu(const Task& task) {
  lang::KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", "auto");

  // Decide where each compute lives.
  std::unordered_map<const void*, Var> buffers;
  for (size_t k = 0; k < task.outputs().size(); ++k) {
    buffers[task.outputs()[k].get()] = task.output_params()[k];
  }
  std::vector<Expr> order;
  for (const Expr& c : collect_computes(task.outputs())) {
    const auto* node = c.as<ComputeNode>();
    bool is_output = buffers.count(c.get()) > 0;
    if (!is_output && !contains_reduce(node->value)) continue;  // inlined into its users
    if (!is_output) {
      buffers[c.get()] = kb.heap_tensor(node->name, node->type.dtype(), node->type.shape());
    }
    order.push_back(c);
  }

  ComputeInliner inliner(buffers);
  for (const Expr& c : order) {
    const auto* node = c.as<ComputeNode>();
    const std::vector<int64_t>& shape = node->type.shape();
    Var out = buffers.at(c.get());
    Expr value = inliner.mutate(node->value);
    auto emit = [&](const std::vector<Expr>& index) { emit_element(kb, *node, value, out, index); };
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) continue;  // empty tensor
    if (shape.empty()) {
      emit({});
      continue;
    }
    // Cores take the rows (all dims but the last); each row runs its last dim vectorized.
    size_t rank = shape.size();
    std::vector<int64_t> rows(shape.begin(), shape.end() - 1), row_shape(rank, 1);
    rows.push_back(1);
    row_shape[rank - 1] = shape[rank - 1];
    std::vector<LoopHint> hints(rank, LoopHint::serial());
    hints[rank - 1] = rank == 1 ? LoopHint::parallel() : LoopHint::vectorize();
    // A last dim of a few elements (an image's 3 channels, channels last) is unrolled inside
    // a vectorized loop over the dim before it: one vector per pixel channel, not a loop of 3
    // per pixel (ResNet-50's input transposed and padded to NHWC: 0.14 -> 0.09 ms).
    if (rank >= 3 && shape[rank - 1] <= kUnrolledLastDim && shape[rank - 2] >= 16) {
      rows[rank - 2] = 1;
      row_shape[rank - 2] = shape[rank - 2];
      hints[rank - 2] = LoopHint::vectorize();
      hints[rank - 1] = LoopHint::unroll();
    }
    int64_t num_rows = std::accumulate(rows.begin(), rows.end(), int64_t{1}, std::multiplies<>());
    TaskMapping mapping = TaskMapping::spatial(rows) * TaskMapping::repeat(row_shape, {}, hints);
    if (rank == 1) {
      kb.for_mapping(mapping, int_imm(0), [&](const Index& index) { emit(index); });
    } else {
      kb.for_range("w", num_rows, LoopHint::parallel(), [&](const Var& w) {
        kb.for_mapping(mapping, w, [&](const Index& index) { emit(index); });
      });
    }
  }
  return kb.build();
}

}  // namespace taskmap::schedules
