// Loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
//
// Both take scores [N, C, d1...] and class targets [N, d1...] (i32 / i64), an optional class
// weight [C] and an optional ignore_index. Element (n, d...) of the loss is
//   -score[n, t, d...] * weight[t]    with t = target[n, d...],
// and 0 where t is ignore_index. `reduction` is "none" (the elements), "sum" or "mean": the sum
// divided by the sum of the weights of the elements not ignored (their count without a weight).
// SoftmaxCrossEntropyLoss scores with log_softmax over dim 1, its optional second output.
// A target outside [0, C) that is not ignore_index has no defined loss; it reads a clamped class.
#include <algorithm>
#include <functional>
#include <numeric>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

// The geometry and options of a loss node; inputs 0 (scores), 1 (target), 2 (optional weight).
struct LossShape {
  std::vector<int64_t> target;  // [N, d1...]
  int64_t classes = 0;
  std::string reduction;
  bool has_ignore = false;
  int64_t ignore_index = 0;
  ir::DType dtype;  // of the scores and the loss
  ir::DType math;   // the dtype the arithmetic runs in
};

LossShape loss_shape(const OpContext& ctx) {
  LossShape s;
  const std::vector<int64_t>& x = ctx.shape(0);
  s.dtype = ctx.dtype(0);
  TM_OP_CHECK(ctx, s.dtype.is_float())
      << "scores of dtype " << s.dtype.name() << " are not supported";
  s.math = s.dtype == ir::f16 || s.dtype == ir::bf16 ? ir::f32 : s.dtype;
  TM_OP_CHECK(ctx, ctx.dtype(1) == ir::i64 || ctx.dtype(1) == ir::i32)
      << "targets of dtype " << ctx.dtype(1).name() << " are not supported";
  TM_OP_CHECK(ctx, x.size() >= 2) << "the scores must have rank 2 or more, not " << x.size();
  s.classes = x[1];
  s.target = x;
  s.target.erase(s.target.begin() + 1);
  TM_OP_CHECK(ctx, ctx.shape(1) == s.target)
      << "the target shape must be the scores' shape without dim 1";
  if (ctx.has_input(2)) {
    TM_OP_CHECK(ctx, ctx.shape(2) == std::vector<int64_t>{s.classes})
        << "the weight must have shape [" << s.classes << "]";
    TM_OP_CHECK(ctx, ctx.dtype(2) == s.dtype) << "the weight's dtype must be the scores'";
  }
  s.reduction = ctx.attr_string("reduction", "mean");
  TM_OP_CHECK(ctx, s.reduction == "none" || s.reduction == "sum" || s.reduction == "mean")
      << "reduction '" << s.reduction << "' is not supported";
  int64_t positions =
      std::accumulate(s.target.begin(), s.target.end(), int64_t{1}, std::multiplies<>());
  TM_OP_CHECK(ctx, s.classes > 0 || positions == 0) << "there are no classes to score";
  s.has_ignore = ctx.has_attr("ignore_index");
  if (s.has_ignore) s.ignore_index = ctx.attr_int("ignore_index");
  return s;
}

// The score index [n, c, d...] of target index [n, d...].
Index score_index(const Index& t, const Expr& c) {
  Index i = t;
  i.insert(i.begin() + 1, c);
  return i;
}

// The loss of one position: its negated score times its class weight, and that weight (0 for an
// ignored position). `score(t, c)` reads the score of class c at target index t (in s.math).
struct Term {
  Expr loss, weight;
};
using ScoreFn = std::function<Expr(const Index&, const Expr&)>;

Term loss_term(const OpContext& ctx, const LossShape& s, const Index& t, const ScoreFn& score) {
  Expr target = ir::cast(ir::index_dtype, ir::load(ctx.param(1), t));
  Expr c = ir::min(ir::max(target, Expr(0)), Expr(s.classes - 1));
  Expr weight =
      ctx.has_input(2) ? ir::cast(s.math, ir::load(ctx.param(2), {c})) : ir::make_const(s.math, 1);
  Expr loss = -score(t, c) * weight;
  if (s.has_ignore) {
    Expr ignored = ir::eq(target, ir::int_imm(s.ignore_index, ir::index_dtype));
    Expr zero = ir::make_const(s.math, 0);
    loss = ir::select(ignored, zero, loss);
    weight = ir::select(ignored, zero, weight);
  }
  return {loss, weight};
}

// The loss output: the terms themselves, their sum, or their weighted mean.
Expr reduce_loss(const OpContext& ctx, const LossShape& s, const ScoreFn& score) {
  if (s.reduction == "none") {
    return ir::compute("loss", s.target, [&](const Index& t) {
      return ir::cast(s.dtype, loss_term(ctx, s, t, score).loss);
    });
  }
  bool empty = std::find(s.target.begin(), s.target.end(), 0) != s.target.end();  // no terms
  auto sum = [&](bool weights) {
    if (empty) return ir::make_const(s.math, 0);
    return ir::reduce(ir::ReduceOp::sum, s.target, [&](const Index& t) {
      Term term = loss_term(ctx, s, t, score);
      return weights ? term.weight : term.loss;
    });
  };
  return ir::compute("loss", {}, [&](const Index&) {
    Expr total = sum(false);
    if (s.reduction == "mean") total = total / sum(true);
    return ir::cast(s.dtype, total);
  });
}

OpDef negative_log_likelihood_loss() {
  OpDef def{"NegativeLogLikelihoodLoss"};
  def.min_opset = 12;
  def.lower = [](const OpContext& ctx) -> Outputs {
    LossShape s = loss_shape(ctx);
    ir::Var x = ctx.param(0);
    return {reduce_loss(ctx, s, [&](const Index& t, const Expr& c) {
      return ir::cast(s.math, ir::load(x, score_index(t, c)));
    })};
  };
  return def;
}

// log_softmax over dim 1 is x - max - log(sum exp(x - max)), max and sum per target position.
OpDef softmax_cross_entropy_loss() {
  OpDef def{"SoftmaxCrossEntropyLoss"};
  def.min_opset = 12;
  def.lower = [](const OpContext& ctx) -> Outputs {
    LossShape s = loss_shape(ctx);
    TM_OP_CHECK(ctx, s.classes > 0) << "softmax over zero classes is not supported";
    ir::Var x = ctx.param(0);
    auto value = [&](const Index& i) { return ir::cast(s.math, ir::load(x, i)); };
    Expr max = ir::compute("max", s.target, [&](const Index& t) {
      return ir::reduce(ir::ReduceOp::max, {s.classes},
                        [&](const Index& r) { return value(score_index(t, r[0])); });
    });
    Expr log_sum = ir::compute("log_sum", s.target, [&](const Index& t) {
      Expr sum = ir::reduce(ir::ReduceOp::sum, {s.classes}, [&](const Index& r) {
        return ir::call("exp", {value(score_index(t, r[0])) - ir::load(max, t)});
      });
      return ir::call("log", {sum});
    });
    auto log_prob = [&](const Index& t, const Expr& c) {
      return value(score_index(t, c)) - ir::load(max, t) - ir::load(log_sum, t);
    };
    std::vector<int64_t> x_shape = ctx.shape(0);
    Expr loss = reduce_loss(ctx, s, log_prob);
    Expr log_prob_out = ir::compute("log_prob", x_shape, [&](const Index& i) {
      Index t = i;
      t.erase(t.begin() + 1);
      return ir::cast(s.dtype, log_prob(t, i[1]));
    });
    return {loss, log_prob_out};
  };
  return def;
}

}  // namespace

void register_loss_ops(std::vector<OpDef>& defs) {
  defs.push_back(negative_log_likelihood_loss());
  defs.push_back(softmax_cross_entropy_loss());
}

}  // namespace taskmap::graph::ops
