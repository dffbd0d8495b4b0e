#include "graph/ops/tensor_util.h"

namespace taskmap::graph::ops::tensor {

ir::Expr wrap_index(const ir::Expr& value, int64_t extent) {
  ir::Expr v = ir::cast(ir::index_dtype, value);
  return clamp_index(ir::select(v < ir::Expr(0), v + extent, v), extent);
}

ir::Expr load_index(const OpContext& ctx, int input, const ir::Index& index, int64_t extent) {
  TM_OP_CHECK(ctx, ctx.dtype(input) == ir::i64 || ctx.dtype(input) == ir::i32)
      << "indices of dtype " << ctx.dtype(input).name() << " are not supported (int32, int64)";
  return wrap_index(ir::load(ctx.param(input), index), extent);
}

ir::Expr reshape_copy(const OpContext& ctx, const std::string& name,
                      const std::vector<int64_t>& shape) {
  const std::vector<int64_t>& in_shape = ctx.shape(0);
  TM_OP_CHECK(ctx, shape_numel(in_shape) == shape_numel(shape))
      << "cannot reshape " << taskmap::shape_str(in_shape) << " to " << taskmap::shape_str(shape);
  ir::Var x = ctx.param(0);
  return ir::compute(name, shape, [&](const ir::Index& i) {
    if (in_shape == shape) return ir::load(x, i);
    return ir::load(x, unravel_index(flat_index(i, shape), in_shape));
  });
}

std::vector<int64_t> ints_input_or_attr(const OpContext& ctx, int input, int input_since,
                                        const std::string& attr, bool* present) {
  bool from_input = ctx.opset() == 0 || ctx.opset() >= input_since;
  std::vector<int64_t> values;
  bool found = false;
  if (ctx.has_attr(attr)) {
    values = ctx.attr_ints(attr);
    found = true;
  } else if (from_input && ctx.has_input(input)) {
    values = ctx.value_ints(input);
    found = true;
  }
  if (present) *present = found;
  return values;
}

ir::Expr constant_vector(const std::string& name, const std::vector<int64_t>& values) {
  int64_t n = static_cast<int64_t>(values.size());
  return ir::compute(name, {n}, [&](const ir::Index& i) {
    ir::Expr e = ir::int_imm(n > 0 ? values.back() : 0, ir::i64);
    for (int64_t k = n - 2; k >= 0; --k)
      e = ir::select(ir::eq(i[0], ir::Expr(k)), ir::int_imm(values[k], ir::i64), e);
    return e;
  });
}

}  // namespace taskmap::graph::ops::tensor
