#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {

int64_t normalize_axis(const OpContext& ctx, int64_t axis, int64_t rank) {
  TM_OP_CHECK(ctx, axis >= -rank && axis < std::max<int64_t>(rank, 1))
      << "axis " << axis << " is out of range for rank " << rank;
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> normalize_axes(const OpContext& ctx, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t& a : axes) a = normalize_axis(ctx, a, rank);
  return axes;
}

std::vector<int64_t> broadcast_shapes(const OpContext& ctx,
                                      const std::vector<std::vector<int64_t>>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (const auto& s : shapes) {
    size_t offset = rank - s.size();
    for (size_t d = 0; d < s.size(); ++d) {
      int64_t& o = out[offset + d];
      if (s[d] == o || s[d] == 1) continue;
      TM_OP_CHECK(ctx, o == 1) << "shapes cannot be broadcast together: dimension " << offset + d
                               << " is " << o << " and " << s[d];
      o = s[d];
    }
  }
  return out;
}

ir::Expr load_broadcast(const ir::Var& param, const std::vector<int64_t>& in_shape,
                        const ir::Index& out) {
  size_t offset = out.size() - in_shape.size();
  ir::Index index;
  index.reserve(in_shape.size());
  for (size_t d = 0; d < in_shape.size(); ++d)
    index.push_back(in_shape[d] == 1 ? ir::Expr(0) : out[offset + d]);
  return ir::load(param, index);
}

ir::Expr elementwise(const OpContext& ctx, const std::string& name, const std::vector<int>& inputs,
                     const std::function<ir::Expr(const std::vector<ir::Expr>&)>& fn) {
  std::vector<std::vector<int64_t>> shapes;
  for (int i : inputs) shapes.push_back(ctx.shape(i));
  std::vector<int64_t> out_shape = broadcast_shapes(ctx, shapes);
  return ir::compute(name, out_shape, [&](const ir::Index& idx) {
    std::vector<ir::Expr> values;
    for (int i : inputs) values.push_back(load_broadcast(ctx.param(i), ctx.shape(i), idx));
    return fn(values);
  });
}

ir::Expr constant(ir::DType dtype, double value) {
  return ir::make_const(dtype, value);
}

ir::Expr clamp_index(const ir::Expr& e, int64_t extent) {
  return ir::min(ir::max(e, ir::Expr(0)), ir::Expr(std::max<int64_t>(extent - 1, 0)));
}

void check_float(const OpContext& ctx, int input) {
  TM_OP_CHECK(ctx, ctx.dtype(input).is_float())
      << "input " << input << " of dtype " << ctx.dtype(input).name() << " is not supported";
}

}  // namespace taskmap::graph::ops
