#include "graph/ops/reduce_util.h"

#include <algorithm>
#include <limits>

namespace taskmap::graph::ops {

Reduction::Reduction(std::vector<int64_t> in_shape, const std::vector<int64_t>& axes, bool keepdims)
    : in_shape_(std::move(in_shape)), reduced_(in_shape_.size(), false), keepdims_(keepdims) {
  for (int64_t a : axes) reduced_.at(a) = true;
}

std::vector<int64_t> Reduction::out_shape() const {
  std::vector<int64_t> shape;
  for (size_t d = 0; d < in_shape_.size(); ++d) {
    if (!reduced_[d]) {
      shape.push_back(in_shape_[d]);
    } else if (keepdims_) {
      shape.push_back(1);
    }
  }
  return shape;
}

std::vector<int64_t> Reduction::extents() const {
  std::vector<int64_t> extents;
  for (size_t d = 0; d < in_shape_.size(); ++d)
    if (reduced_[d]) extents.push_back(in_shape_[d]);
  return extents;
}

bool Reduction::is_empty() const {
  std::vector<int64_t> e = extents();
  return std::find(e.begin(), e.end(), 0) != e.end();
}

ir::Index Reduction::input_index(const ir::Index& out, const ir::Index& r) const {
  ir::Index index;
  size_t o = 0, k = 0;
  for (size_t d = 0; d < in_shape_.size(); ++d) {
    if (reduced_[d]) {
      index.push_back(r.at(k++));
      if (keepdims_) ++o;
    } else {
      index.push_back(out.at(o++));
    }
  }
  return index;
}

namespace {

// The lowest (or highest) value of `dtype`: an infinity for floats.
ir::Expr extreme(ir::DType dtype, bool lowest) {
  const double inf = std::numeric_limits<double>::infinity();
  if (dtype.is_float()) return ir::float_imm(lowest ? -inf : inf, dtype);
  if (dtype.is_bool()) return ir::bool_imm(!lowest);
  int bits = dtype.bits();
  if (!dtype.is_signed()) return ir::int_imm(lowest ? 0 : (int64_t{1} << bits) - 1, dtype);
  int64_t hi = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
  return ir::int_imm(lowest ? -hi - 1 : hi, dtype);
}

}  // namespace

ir::Expr reduce_dims(const OpContext& ctx, ir::ReduceOp op, const Reduction& reduction,
                     const ir::Index& out, const std::function<ir::Expr(const ir::Index&)>& fn,
                     std::optional<ir::DType> accumulate) {
  using ir::ReduceOp;
  bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  std::vector<int64_t> extents = reduction.extents();
  if (!reduction.is_empty()) {
    if (extents.empty()) {
      if (arg) return ir::int_imm(0, ir::i64);
      ir::Expr v = fn(reduction.input_index(out, {}));
      return accumulate ? ir::cast(*accumulate, v) : v;
    }
    return ir::reduce(
        op, extents, [&](const ir::Index& r) { return fn(reduction.input_index(out, r)); },
        accumulate);
  }
  TM_OP_CHECK(ctx, !arg) << "cannot take the " << ir::reduce_op_name(op)
                         << " of an empty set of elements";
  // The identity: fn's value (at a dummy index) only gives its dtype.
  ir::DType value_dtype =
      fn(reduction.input_index(out, ir::Index(extents.size(), ir::Expr(0)))).dtype();
  ir::DType acc = accumulate.value_or(
      value_dtype == ir::f16 || value_dtype == ir::bf16 ? ir::f32 : value_dtype);
  switch (op) {
    case ReduceOp::sum:
      return ir::make_const(acc, 0);
    case ReduceOp::prod:
      return ir::make_const(acc, 1);
    case ReduceOp::max:
      return extreme(acc, true);
    case ReduceOp::min:
      return extreme(acc, false);
    case ReduceOp::mean:
      return acc.is_float() ? ir::float_imm(std::numeric_limits<double>::quiet_NaN(), acc)
                            : ir::make_const(acc, 0);
    default:
      break;
  }
  TM_UNREACHABLE();
}

ir::DType math_dtype(ir::DType dtype) {
  if (dtype == ir::f16 || dtype == ir::bf16) return ir::f32;
  if (!dtype.is_float()) return ir::f64;
  return dtype;
}

}  // namespace taskmap::graph::ops
