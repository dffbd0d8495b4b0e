// ReverseSequence and Compress: operators that pick the elements of their input by a per-slice
// length or mask.
//
// Compress's output length is the number of set condition entries, so it needs the condition's
// value; the kernel still reads the condition tensor itself: the position of the j-th selected
// slice is the number of positions whose running count of set entries is at most j.
#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops::misc {
namespace {

using ir::Expr;
using ir::ReduceOp;

// Along `time_axis`, the first sequence_lens[b] elements of each batch entry b reversed, the rest
// copied.
OpDef reverse_sequence() {
  OpDef def{"ReverseSequence"};
  def.min_opset = 10;
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 2) << "the input must have rank 2 or more";
    int64_t batch_axis = normalize_axis(ctx, ctx.attr_int("batch_axis", 1), rank);
    int64_t time_axis = normalize_axis(ctx, ctx.attr_int("time_axis", 0), rank);
    TM_OP_CHECK(ctx, batch_axis <= 1 && time_axis <= 1 && batch_axis != time_axis)
        << "batch_axis and time_axis must be 0 and 1 in some order";
    TM_OP_CHECK(ctx, ctx.rank(1) == 1 && ctx.shape(1)[0] == shape[batch_axis])
        << "sequence_lens must have shape [" << shape[batch_axis] << "]";
    TM_OP_CHECK(ctx, ctx.dtype(1).is_int()) << "sequence_lens must be integers";
    int64_t steps = shape[time_axis];
    return {ir::compute("reverse_sequence", shape, [&](const ir::Index& i) {
      Expr length = ir::cast(ir::index_dtype, ir::load(ctx.param(1), {i[batch_axis]}));
      length = ir::min(ir::max(length, Expr(0)), Expr(steps));
      Expr t = i[time_axis];
      ir::Index source = i;
      source[time_axis] = clamp_index(ir::select(t < length, length - 1 - t, t), steps);
      return ir::load(ctx.param(0), source);
    })};
  };
  return def;
}

// The slices (or, without an axis, the elements of the flattened input) whose condition entry is
// set. Entries past the end of the condition count as unset.
OpDef compress() {
  OpDef def{"Compress"};
  def.min_opset = 9;
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.rank(1) == 1) << "the condition must have rank 1";
    const std::vector<int64_t>& in_shape = ctx.shape(0);
    bool has_axis = ctx.has_attr("axis");
    TM_OP_CHECK(ctx, !has_axis || ctx.rank(0) >= 1) << "axis needs an input of rank 1 or more";
    int64_t axis = has_axis ? normalize_axis(ctx, ctx.attr_int("axis"), ctx.rank(0)) : 0;
    std::vector<int64_t> shape = has_axis ? in_shape : std::vector<int64_t>{shape_numel(in_shape)};
    int64_t extent = shape[axis];
    const NDArray& condition = ctx.value(1);
    int64_t n = std::min(extent, condition.numel());
    int64_t count = 0;
    for (int64_t k = 0; k < n; ++k) count += condition.get_double(k) != 0 ? 1 : 0;
    for (int64_t k = n; k < condition.numel(); ++k) {
      TM_OP_CHECK(ctx, condition.get_double(k) == 0)
          << "the condition selects position " << k << ", past the input's " << extent;
    }
    std::vector<int64_t> out_shape = shape;
    out_shape[axis] = count;
    ir::Var cond = ctx.param(1);
    auto is_set = [&](const Expr& k) {
      return ir::ne(ir::load(cond, {k}), ir::make_const(ctx.dtype(1), 0));
    };
    if (count == 0) {
      return {ir::compute("compress", out_shape,
                          [&](const ir::Index&) { return ir::make_const(ctx.dtype(0), 0); })};
    }
    // running[k] = the number of set entries in [0, k].
    Expr running = ir::compute("running_count", {n}, [&](const ir::Index& k) {
      return ir::reduce(ReduceOp::sum, {n}, [&](const ir::Index& r) {
        return ir::select(r[0] <= k[0] && is_set(r[0]), Expr(1), Expr(0));
      });
    });
    Expr position = ir::compute("selected", {count}, [&](const ir::Index& j) {
      return ir::reduce(ReduceOp::sum, {n}, [&](const ir::Index& r) {
        return ir::select(ir::load(running, {r[0]}) <= j[0], Expr(1), Expr(0));
      });
    });
    return {ir::compute("compress", out_shape, [&](const ir::Index& i) {
      Expr at = clamp_index(ir::load(position, {i[axis]}), extent);
      if (has_axis) {
        ir::Index source = i;
        source[axis] = at;
        return ir::load(ctx.param(0), source);
      }
      ir::Index source(in_shape.size());
      for (size_t d = in_shape.size(); d-- > 0;) {
        source[d] = at % in_shape[d];
        at = at / in_shape[d];
      }
      return ir::load(ctx.param(0), source);
    })};
  };
  return def;
}

}  // namespace

void register_misc_select_ops(std::vector<OpDef>& defs) {
  defs.push_back(reverse_sequence());
  defs.push_back(compress());
}

}  // namespace taskmap::graph::ops::misc
