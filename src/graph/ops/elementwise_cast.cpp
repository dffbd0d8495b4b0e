// Cast, CastLike, Identity, Dropout (inference).
#include "graph/ops/elementwise_common.h"
#include "taskmap/frontend/onnx.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;

// Conversion as C's: float to integer truncates toward zero, to bool compares with zero.
Expr cast_compute(const OpContext& ctx, ir::DType to) {
  return ir::compute(ctx.type(), ctx.shape(0), [&](const ir::Index& idx) {
    return ir::cast(to, ir::load(ctx.param(0), idx));
  });
}

OpDef cast() {
  OpDef def{"Cast"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t to = ctx.attr_int("to");
    return {cast_compute(ctx, onnx::dtype_from_onnx(static_cast<int>(to), ctx.where()))};
  };
  return def;
}

OpDef cast_like() {
  OpDef def{"CastLike"};
  def.lower = [](const OpContext& ctx) -> Outputs { return {cast_compute(ctx, ctx.dtype(1))}; };
  return def;
}

OpDef identity() {
  OpDef def{"Identity"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    return {ir::compute("Identity", ctx.shape(0),
                        [&](const ir::Index& idx) { return ir::load(ctx.param(0), idx); })};
  };
  def.is_view = true;
  return def;
}

// At inference Dropout passes its input through; the mask (output 1) is all true. Training mode
// (opset 12: input 2) is accepted only with ratio 0, where it is the same.
OpDef dropout() {
  OpDef def{"Dropout"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    if (ctx.opset() == 0 || ctx.opset() >= 12) {
      bool training = ctx.has_input(2) && ctx.value_scalar(2) != 0;
      double ratio = training && ctx.has_input(1) ? ctx.value_scalar(1) : 0.5;
      TM_OP_CHECK(ctx, !training || ratio == 0)
          << "training mode with ratio " << ratio << " is not supported (random dropout)";
    }
    Expr y = ir::compute("Dropout", ctx.shape(0),
                         [&](const ir::Index& idx) { return ir::load(ctx.param(0), idx); });
    // Before opset 10 the mask has the input's dtype.
    ir::DType mask_dtype = ctx.opset() > 0 && ctx.opset() < 10 ? ctx.dtype(0) : ir::boolean;
    Expr mask = ir::compute("DropoutMask", ctx.shape(0),
                            [&](const ir::Index&) { return constant(mask_dtype, 1); });
    return {y, mask};
  };
  def.is_view = true;
  return def;
}

}  // namespace

void register_cast_ops(std::vector<OpDef>& defs) {
  defs.push_back(cast());
  defs.push_back(cast_like());
  defs.push_back(identity());
  defs.push_back(dropout());
}

}  // namespace taskmap::graph::ops
