// Operators that change only the shape of their input (Reshape, Flatten, Squeeze, Unsqueeze),
// that produce values from shapes or attributes alone (Shape, Size, ConstantOfShape, EyeLike,
// Range), and NonZero, whose output shape depends on the data.
#include <algorithm>
#include <cmath>
#include <set>

#include "graph/ops/tensor_util.h"
#include "taskmap/frontend/onnx.h"

namespace taskmap::graph::ops::tensor {
namespace {

// A view op: output 0 is input 0 with the shape `shape_of(ctx)`.
OpDef view_op(std::string type, int min_opset,
              std::function<std::vector<int64_t>(const OpContext&)> shape_of) {
  OpDef def{type};
  std::string name = type;
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  def.lower = [name, shape_of](const OpContext& ctx) -> Outputs {
    return {reshape_copy(ctx, name, shape_of(ctx))};
  };
  def.is_view = true;
  def.min_opset = min_opset;
  return def;
}

std::vector<int64_t> reshape_shape(const OpContext& ctx) {
  const std::vector<int64_t>& in = ctx.shape(0);
  std::vector<int64_t> target = ints_input_or_attr(ctx, 1, 5, "shape");
  bool allow_zero = ctx.attr_int("allowzero", 0) != 0;
  int64_t known = 1;
  int inferred = -1;
  for (size_t d = 0; d < target.size(); ++d) {
    int64_t& t = target[d];
    if (t == 0 && !allow_zero) {
      TM_OP_CHECK(ctx, d < in.size())
          << "shape " << taskmap::shape_str(target) << ": a 0 at dimension " << d
          << " copies an input dimension the input " << taskmap::shape_str(in) << " does not have";
      t = in[d];
    }
    if (t == -1) {
      TM_OP_CHECK(ctx, inferred < 0) << "shape " << taskmap::shape_str(target) << " has several -1";
      inferred = static_cast<int>(d);
      continue;
    }
    TM_OP_CHECK(ctx, t >= 0) << "shape " << taskmap::shape_str(target)
                             << " has a negative dimension";
    known *= t;
  }
  int64_t numel = shape_numel(in);
  if (inferred >= 0) {
    TM_OP_CHECK(ctx, known != 0 && numel % known == 0)
        << "cannot reshape " << taskmap::shape_str(in) << " to " << taskmap::shape_str(target);
    target[inferred] = numel / known;
  }
  TM_OP_CHECK(ctx, shape_numel(target) == numel)
      << "cannot reshape " << taskmap::shape_str(in) << " to " << taskmap::shape_str(target);
  return target;
}

std::vector<int64_t> flatten_shape(const OpContext& ctx) {
  const std::vector<int64_t>& in = ctx.shape(0);
  int64_t rank = ctx.rank(0);
  int64_t axis = ctx.attr_int("axis", 1);
  TM_OP_CHECK(ctx, axis >= -rank && axis <= rank)
      << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0) axis += rank;
  int64_t outer = shape_numel({in.begin(), in.begin() + axis});
  return {outer, shape_numel({in.begin() + axis, in.end()})};
}

std::vector<int64_t> squeeze_shape(const OpContext& ctx) {
  const std::vector<int64_t>& in = ctx.shape(0);
  bool present = false;
  std::vector<int64_t> axes = ints_input_or_attr(ctx, 1, 13, "axes", &present);
  std::set<int64_t> drop;
  if (present) {
    for (int64_t a : normalize_axes(ctx, axes, ctx.rank(0))) {
      TM_OP_CHECK(ctx, in[a] == 1) << "cannot squeeze dimension " << a << " of size " << in[a];
      drop.insert(a);
    }
  } else {
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] == 1) drop.insert(static_cast<int64_t>(d));
  }
  std::vector<int64_t> out;
  for (size_t d = 0; d < in.size(); ++d)
    if (!drop.count(static_cast<int64_t>(d))) out.push_back(in[d]);
  return out;
}

std::vector<int64_t> unsqueeze_shape(const OpContext& ctx) {
  const std::vector<int64_t>& in = ctx.shape(0);
  bool present = false;
  std::vector<int64_t> axes = ints_input_or_attr(ctx, 1, 13, "axes", &present);
  TM_OP_CHECK(ctx, present) << "axes are required";
  int64_t rank = ctx.rank(0) + static_cast<int64_t>(axes.size());
  std::set<int64_t> inserted;
  for (int64_t a : normalize_axes(ctx, axes, rank)) {
    TM_OP_CHECK(ctx, inserted.insert(a).second) << "axis " << a << " is given twice";
  }
  std::vector<int64_t> out;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d) out.push_back(inserted.count(d) ? 1 : in[next++]);
  return out;
}

OpDef shape_op() {
  OpDef def{"Shape"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    std::vector<int64_t> in = ctx.shape(0);
    int64_t rank = ctx.rank(0);
    auto clip = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    int64_t start = clip(ctx.attr_int("start", 0));
    int64_t end = clip(ctx.attr_int("end", rank));
    std::vector<int64_t> dims;
    for (int64_t d = start; d < end; ++d) dims.push_back(in[d]);
    return {constant_vector("shape", dims)};
  };
  return def;
}

OpDef size_op() {
  OpDef def{"Size"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t n = shape_numel(ctx.shape(0));
    return {ir::compute("size", {}, [&](const ir::Index&) { return ir::int_imm(n, ir::i64); })};
  };
  return def;
}

// A scalar constant of `value`'s dtype holding its first element.
ir::Expr first_element(const NDArray& value) {
  ir::DType dtype = value.dtype();
  if (dtype.is_float()) return ir::float_imm(value.get_double(0), dtype);
  return ir::int_imm(value.get_int(0), dtype);
}

OpDef constant_of_shape_op() {
  OpDef def{"ConstantOfShape"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    std::vector<int64_t> shape = ctx.value_ints(0);
    for (int64_t d : shape)
      TM_OP_CHECK(ctx, d >= 0) << "negative dimension in " << taskmap::shape_str(shape);
    ir::Expr value = ir::float_imm(0, ir::f32);
    if (ctx.has_attr("value")) {
      const NDArray& v = ctx.attr_tensor("value");
      TM_OP_CHECK(ctx, v.numel() == 1) << "value must hold one element, got " << v.type_str();
      value = first_element(v);
    }
    return {ir::compute("constant_of_shape", shape, [&](const ir::Index&) { return value; })};
  };
  def.min_opset = 9;
  return def;
}

OpDef eye_like_op() {
  OpDef def{"EyeLike"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.rank(0) == 2) << "the input must have rank 2, got " << ctx.rank(0);
    ir::DType dtype =
        ctx.has_attr("dtype")
            ? onnx::dtype_from_onnx(static_cast<int>(ctx.attr_int("dtype")), ctx.where())
            : ctx.dtype(0);
    int64_t k = ctx.attr_int("k", 0);
    return {ir::compute("eye_like", ctx.shape(0), [&](const ir::Index& i) {
      return ir::select(ir::eq(i[1] - i[0], ir::Expr(k)), constant(dtype, 1), constant(dtype, 0));
    })};
  };
  def.min_opset = 9;
  return def;
}

OpDef range_op() {
  OpDef def{"Range"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, dtype == ir::f32 || dtype == ir::f64 || dtype == ir::i16 || dtype == ir::i32 ||
                         dtype == ir::i64)
        << "dtype " << dtype.name() << " is not supported (float, double, int16, int32, int64)";
    for (int i = 0; i < 3; ++i) {
      TM_OP_CHECK(ctx, ctx.dtype(i) == dtype && shape_numel(ctx.shape(i)) == 1)
          << "start, limit and delta must be scalars of one dtype";
    }
    int64_t n;
    ir::Expr start, delta;
    if (dtype.is_float()) {
      double s = ctx.value_scalar(0), l = ctx.value_scalar(1), d = ctx.value_scalar(2);
      TM_OP_CHECK(ctx, d != 0) << "delta must not be 0";
      n = std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0);
      start = ir::float_imm(s, dtype);
      delta = ir::float_imm(d, dtype);
    } else {
      int64_t s = ctx.value(0).get_int(0), l = ctx.value(1).get_int(0), d = ctx.value(2).get_int(0);
      TM_OP_CHECK(ctx, d != 0) << "delta must not be 0";
      int64_t span = l - s;
      n = span / d + ((span % d != 0 && (span < 0) == (d < 0)) ? 1 : 0);
      n = std::max<int64_t>(n, 0);
      start = ir::int_imm(s, dtype);
      delta = ir::int_imm(d, dtype);
    }
    return {ir::compute("range", {n},
                        [&](const ir::Index& i) { return start + ir::cast(dtype, i[0]) * delta; })};
  };
  def.min_opset = 11;
  return def;
}

// NonZero: the indices of the non-zero elements, one row per dimension (a 0-d input counts as
// one element of a 1-d tensor, as NumPy does).
std::vector<int64_t> nonzero_positions(const NDArray& x) {
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < x.numel(); ++i)
    if (x.get_double(i) != 0) positions.push_back(i);
  return positions;
}

OpDef nonzero_op() {
  OpDef def{"NonZero"};
  def.infer = [](const OpContext& ctx) -> std::vector<OutputType> {
    int64_t count = static_cast<int64_t>(nonzero_positions(ctx.value(0)).size());
    return {{ir::i64, {std::max<int64_t>(ctx.rank(0), 1), count}}};
  };
  def.evaluate = [](const OpContext& ctx) -> std::vector<NDArray> {
    const NDArray& x = ctx.value(0);
    std::vector<int64_t> shape = x.shape();
    if (shape.empty()) shape = {1};
    std::vector<int64_t> positions = nonzero_positions(x);
    int64_t rank = static_cast<int64_t>(shape.size());
    int64_t count = static_cast<int64_t>(positions.size());
    NDArray out(ir::i64, {rank, count});
    for (int64_t k = 0; k < count; ++k) {
      int64_t flat = positions[k];
      for (int64_t d = rank; d-- > 0;) {
        out.set_int(d * count + k, flat % shape[d]);
        flat /= shape[d];
      }
    }
    return {out};
  };
  def.min_opset = 9;
  return def;
}

}  // namespace

void register_tensor_shape_ops(std::vector<OpDef>& defs) {
  defs.push_back(view_op("Reshape", 1, reshape_shape));
  defs.push_back(view_op("Flatten", 1, flatten_shape));
  defs.push_back(view_op("Squeeze", 1, squeeze_shape));
  defs.push_back(view_op("Unsqueeze", 1, unsqueeze_shape));
  defs.push_back(shape_op());
  defs.push_back(size_op());
  defs.push_back(constant_of_shape_op());
  defs.push_back(eye_like_op());
  defs.push_back(range_op());
  defs.push_back(nonzero_op());
}

}  // namespace taskmap::graph::ops::tensor
