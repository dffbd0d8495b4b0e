// Normalizations: LayerNormalization, InstanceNormalization, BatchNormalization,
// MeanVarianceNormalization, LRN. Statistics are computes of their own (materialized once), in
// f32 for f16 / bf16 inputs; the variance is the mean of squared deviations from the mean.
#include "graph/ops/reduce_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::ReduceOp;

// The mean and the variance of x over the reduced dims of `reduction` (keepdims), in dtype t.
struct Moments {
  Expr mean, variance;
};

Moments moments(const OpContext& ctx, const Reduction& reduction, ir::DType t) {
  ir::Var x = ctx.param(0);
  auto value = [&](const ir::Index& i) { return ir::cast(t, ir::load(x, i)); };
  Expr mean = ir::compute("mean", reduction.out_shape(), [&](const ir::Index& out) {
    return reduce_dims(ctx, ReduceOp::mean, reduction, out, value, t);
  });
  Expr variance = ir::compute("variance", reduction.out_shape(), [&](const ir::Index& out) {
    Expr m = ir::load(mean, out);
    return reduce_dims(
        ctx, ReduceOp::mean, reduction, out,
        [&](const ir::Index& i) {
          Expr d = value(i) - m;
          return d * d;
        },
        t);
  });
  return {mean, variance};
}

// The index of a keepdims statistic that input index `i` reads.
ir::Index kept_index(const ir::Index& i, const std::vector<int64_t>& axes) {
  ir::Index kept = i;
  for (int64_t a : axes) kept[a] = Expr(0);
  return kept;
}

std::vector<int64_t> dims_from(int64_t first, int64_t rank) {
  std::vector<int64_t> dims;
  for (int64_t d = first; d < rank; ++d) dims.push_back(d);
  return dims;
}

Expr inverse_sqrt(const Expr& x) {
  return ir::make_const(x.dtype(), 1) / ir::call("sqrt", {x});
}

// Y = (X - mean) / sqrt(var + epsilon) * Scale + B over the dims from `axis` on; optional
// outputs Mean and InvStdDev (keepdims). stash_type 1 computes the statistics in f32.
OpDef layer_normalization() {
  OpDef def{"LayerNormalization"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank > 0) << "the input must have rank 1 or more";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
    double epsilon = ctx.attr_float("epsilon", 1e-5);
    ir::DType dtype = ctx.dtype(0);
    ir::DType stash = ctx.attr_int("stash_type", 1) == 1 ? ir::f32 : dtype;
    ir::DType t = math_dtype(stash);
    std::vector<int64_t> axes = dims_from(axis, rank);
    Reduction reduction(ctx.shape(0), axes, true);
    Moments m = moments(ctx, reduction, t);
    Expr inv_std = ir::compute("inv_std_dev", reduction.out_shape(), [&](const ir::Index& out) {
      return inverse_sqrt(ir::load(m.variance, out) + ir::make_const(t, epsilon));
    });
    ir::Var x = ctx.param(0);
    Expr y = ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
      ir::Index kept = kept_index(i, axes);
      Expr v = (ir::cast(t, ir::load(x, i)) - ir::load(m.mean, kept)) * ir::load(inv_std, kept);
      v = v * ir::cast(t, load_broadcast(ctx.param(1), ctx.shape(1), i));
      if (ctx.has_input(2)) v = v + ir::cast(t, load_broadcast(ctx.param(2), ctx.shape(2), i));
      return ir::cast(dtype, v);
    });
    auto as_stash = [&](const Expr& e, const char* name) {
      if (stash == t) return e;
      return ir::compute(name, reduction.out_shape(),
                         [&](const ir::Index& out) { return ir::cast(stash, ir::load(e, out)); });
    };
    return {y, as_stash(m.mean, "mean_out"), as_stash(inv_std, "inv_std_dev_out")};
  };
  return def;
}

// y = scale[c] * (x - mean) / sqrt(variance + epsilon) + B[c], the statistics per instance and
// channel (over dims 2...).
OpDef instance_normalization() {
  OpDef def{"InstanceNormalization"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 2) << "the input must have rank 2 or more";
    double epsilon = ctx.attr_float("epsilon", 1e-5);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    std::vector<int64_t> axes = dims_from(2, rank);
    Reduction reduction(ctx.shape(0), axes, true);
    Moments m = moments(ctx, reduction, t);
    ir::Var x = ctx.param(0), scale = ctx.param(1), bias = ctx.param(2);
    return {ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
      ir::Index kept = kept_index(i, axes);
      Expr normalized = (ir::cast(t, ir::load(x, i)) - ir::load(m.mean, kept)) *
                        inverse_sqrt(ir::load(m.variance, kept) + ir::make_const(t, epsilon));
      Expr y =
          normalized * ir::cast(t, ir::load(scale, {i[1]})) + ir::cast(t, ir::load(bias, {i[1]}));
      return ir::cast(dtype, y);
    })};
  };
  return def;
}

// y = (x - mean) / sqrt(var + epsilon) * scale + B with per-channel (dim 1) statistics: the
// given ones (inference), or with training_mode those of the batch, which also gives the updated
// running statistics input * momentum + batch * (1 - momentum).
OpDef batch_normalization() {
  OpDef def{"BatchNormalization"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 2) << "inputs of rank " << rank << " are not supported";
    bool training = ctx.attr_int("training_mode", 0) != 0;
    TM_OP_CHECK(ctx, training || ctx.opset() == 0 || ctx.opset() >= 14 || ctx.num_outputs() == 1)
        << "training outputs (opset " << ctx.opset() << ") are not supported";
    double epsilon = ctx.attr_float("epsilon", 1e-5);
    double momentum = ctx.attr_float("momentum", 0.9);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    // A per-channel input: shape [C], or [C, D1, ...] (opset < 9 with spatial = 0).
    auto channel = [&](int input, const ir::Index& i) {
      ir::Index index(i.begin() + 1, i.end());
      if (ctx.rank(input) == 1) index.resize(1);
      return ir::cast(t, ir::load(ctx.param(input), index));
    };
    ir::Var x = ctx.param(0);
    auto normalize = [&](const ir::Index& i, const Expr& mean, const Expr& variance) {
      Expr v = (ir::cast(t, ir::load(x, i)) - mean) *
               inverse_sqrt(variance + ir::make_const(t, epsilon));
      return ir::cast(dtype, v * channel(1, i) + channel(2, i));
    };
    if (!training) {
      return {ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
        return normalize(i, channel(3, i), channel(4, i));
      })};
    }
    TM_OP_CHECK(ctx, ctx.rank(1) == 1) << "training with spatial = 0 is not supported";
    std::vector<int64_t> axes = {0};
    for (int64_t d = 2; d < rank; ++d) axes.push_back(d);
    Moments m = moments(ctx, Reduction(ctx.shape(0), axes, false), t);
    Expr y = ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
      return normalize(i, ir::load(m.mean, {i[1]}), ir::load(m.variance, {i[1]}));
    });
    auto running = [&](const char* name, int input, const Expr& batch) {
      return ir::compute(name, {ctx.shape(0)[1]}, [&](const ir::Index& c) {
        Expr r = ir::cast(t, ir::load(ctx.param(input), c)) * ir::make_const(t, momentum) +
                 ir::load(batch, c) * ir::make_const(t, 1 - momentum);
        return ir::cast(ctx.dtype(input), r);
      });
    };
    return {y, running("running_mean", 3, m.mean), running("running_var", 4, m.variance)};
  };
  return def;
}

// (X - mean) / (sqrt(variance) + 1e-9) over `axes` (default 0, 2, 3), as the ONNX function.
OpDef mean_variance_normalization() {
  OpDef def{"MeanVarianceNormalization"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    int64_t rank = ctx.rank(0);
    std::vector<int64_t> axes =
        normalize_axes(ctx, ctx.attr_ints("axes", std::vector<int64_t>{0, 2, 3}), rank);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    Reduction reduction(ctx.shape(0), axes, true);
    Moments m = moments(ctx, reduction, t);
    ir::Var x = ctx.param(0);
    return {ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
      ir::Index kept = kept_index(i, axes);
      Expr std_dev = ir::call("sqrt", {ir::load(m.variance, kept)}) + ir::make_const(t, 1e-9);
      return ir::cast(dtype, (ir::cast(t, ir::load(x, i)) - ir::load(m.mean, kept)) / std_dev);
    })};
  };
  return def;
}

// y = x / (bias + alpha / size * square_sum)^beta, square_sum over the `size` channels around c.
OpDef lrn() {
  OpDef def{"LRN"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 2) << "the input must have rank 2 or more";
    int64_t size = ctx.attr_int("size");
    TM_OP_CHECK(ctx, size > 0) << "size must be positive, got " << size;
    double alpha = ctx.attr_float("alpha", 1e-4);
    double beta = ctx.attr_float("beta", 0.75);
    double bias = ctx.attr_float("bias", 1.0);
    ir::DType dtype = ctx.dtype(0);
    ir::DType t = math_dtype(dtype);
    int64_t channels = ctx.shape(0)[1];
    ir::Var x = ctx.param(0);
    return {ir::compute("y", ctx.shape(0), [&](const ir::Index& i) {
      Expr sum = ir::reduce(
          ReduceOp::sum, {size},
          [&](const ir::Index& r) {
            Expr c = i[1] + r[0] - Expr((size - 1) / 2);
            ir::Index source = i;
            source[1] = ir::max(ir::min(c, Expr(channels - 1)), Expr(0));  // stays in bounds
            Expr v = ir::cast(t, ir::load(x, source));
            return ir::select(c >= Expr(0) && c < Expr(channels), v * v, ir::make_const(t, 0));
          },
          t);
      Expr base = ir::make_const(t, bias) + ir::make_const(t, alpha / size) * sum;
      Expr y = ir::cast(t, ir::load(x, i)) / ir::call("pow", {base, ir::make_const(t, beta)});
      return ir::cast(dtype, y);
    })};
  };
  return def;
}

}  // namespace

void register_norm_ops(std::vector<OpDef>& defs) {
  defs.push_back(layer_normalization());
  defs.push_back(instance_normalization());
  defs.push_back(batch_normalization());
  defs.push_back(mean_variance_normalization());
  defs.push_back(lrn());
}

}  // namespace taskmap::graph::ops
