// Operators that read or write positions given by an index tensor: Gather, GatherElements,
// GatherND, Scatter, ScatterElements, ScatterND, OneHot. Indices may be negative (counted from
// the end of their dimension).
//
// A scatter is a compute over the output: each element reduces over the updates that target it
// (O(output * updates along the scattered dimensions)). Without a reduction the last such update
// wins, as in the ONNX reference.
#include "graph/ops/tensor_util.h"

namespace taskmap::graph::ops::tensor {
namespace {

OpDef gather_op() {
  OpDef def{"Gather"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& data = ctx.shape(0);
    const std::vector<int64_t>& indices = ctx.shape(1);
    TM_OP_CHECK(ctx, !data.empty()) << "data must have rank 1 or more";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), ctx.rank(0));
    int64_t q = ctx.rank(1);
    std::vector<int64_t> shape(data.begin(), data.begin() + axis);
    shape.insert(shape.end(), indices.begin(), indices.end());
    shape.insert(shape.end(), data.begin() + axis + 1, data.end());
    return {ir::compute("gather", shape, [&](const ir::Index& i) {
      ir::Index pos(i.begin() + axis, i.begin() + axis + q);
      ir::Index j(i.begin(), i.begin() + axis);
      j.push_back(load_index(ctx, 1, pos, data[axis]));
      j.insert(j.end(), i.begin() + axis + q, i.end());
      return ir::load(ctx.param(0), j);
    })};
  };
  return def;
}

OpDef gather_elements_op() {
  OpDef def{"GatherElements"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& data = ctx.shape(0);
    const std::vector<int64_t>& indices = ctx.shape(1);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 1 && ctx.rank(1) == rank)
        << "data and indices must have the same rank (1 or more)";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
    for (int64_t d = 0; d < rank; ++d) {
      TM_OP_CHECK(ctx, d == axis || indices[d] <= data[d])
          << "indices " << taskmap::shape_str(indices) << " exceed data "
          << taskmap::shape_str(data) << " in dimension " << d;
    }
    return {ir::compute("gather_elements", indices, [&](const ir::Index& i) {
      ir::Index j = i;
      j[axis] = load_index(ctx, 1, i, data[axis]);
      return ir::load(ctx.param(0), j);
    })};
  };
  def.min_opset = 11;
  return def;
}

OpDef gather_nd_op() {
  OpDef def{"GatherND"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& data = ctx.shape(0);
    const std::vector<int64_t>& indices = ctx.shape(1);
    int64_t rd = ctx.rank(0), ri = ctx.rank(1), b = ctx.attr_int("batch_dims", 0);
    TM_OP_CHECK(ctx, ri >= 1 && b >= 0 && b < std::min(rd, ri))
        << "batch_dims " << b << " does not fit data rank " << rd << " and indices rank " << ri;
    int64_t q = indices.back();
    TM_OP_CHECK(ctx, q >= 1 && q <= rd - b)
        << "the last dimension of indices (" << q << ") must be in [1, " << rd - b << "]";
    for (int64_t d = 0; d < b; ++d) {
      TM_OP_CHECK(ctx, data[d] == indices[d])
          << "batch dimension " << d << " differs: " << data[d] << " and " << indices[d];
    }
    std::vector<int64_t> shape(indices.begin(), indices.end() - 1);
    shape.insert(shape.end(), data.begin() + b + q, data.end());
    return {ir::compute("gather_nd", shape, [&](const ir::Index& i) {
      ir::Index j(i.begin(), i.begin() + b);
      ir::Index pos(i.begin(), i.begin() + ri - 1);
      pos.push_back(ir::Expr(0));
      for (int64_t t = 0; t < q; ++t) {
        pos.back() = ir::Expr(t);
        j.push_back(load_index(ctx, 1, pos, data[b + t]));
      }
      j.insert(j.end(), i.begin() + ri - 1, i.end());
      return ir::load(ctx.param(0), j);
    })};
  };
  def.min_opset = 11;
  return def;
}

enum class Reduction { none, add, mul, max, min };

Reduction scatter_reduction(const OpContext& ctx) {
  std::string r = ctx.attr_string("reduction", "none");
  Reduction reduction = Reduction::none;
  if (r == "none") {
    reduction = Reduction::none;
  } else if (r == "add") {
    reduction = Reduction::add;
  } else if (r == "mul") {
    reduction = Reduction::mul;
  } else if (r == "max") {
    reduction = Reduction::max;
  } else if (r == "min") {
    reduction = Reduction::min;
  } else {
    TM_OP_ERROR(ctx) << "reduction '" << r << "' is not supported";
  }
  TM_OP_CHECK(ctx, reduction == Reduction::none || !ctx.dtype(0).is_bool())
      << "reduction '" << r << "' on bool data is not supported";
  return reduction;
}

// Where a scatter's updates go. The reduce positions j range over `extents`; whether the update
// at j targets an output element depends only on the element's `key` (an index into `key_shape`:
// the whole output index for ScatterElements, its first q coordinates for ScatterND).
struct ScatterTarget {
  std::vector<int64_t> extents;
  std::vector<int64_t> key_shape;
  std::function<ir::Index(const ir::Index& i)> key;
  std::function<ir::Expr(const ir::Index& key, const ir::Index& j)> match;
  // The update at position j (or at row-major position `flat` of extents) for output element i.
  std::function<ir::Expr(const ir::Index& i, const ir::Index& j)> update;
  std::function<ir::Expr(const ir::Index& i, const ir::Expr& flat)> update_at;
};

ir::Expr scatter_compute(const OpContext& ctx, const std::string& name, Reduction reduction,
                         const ScatterTarget& t) {
  ir::Var data = ctx.param(0);
  ir::DType dtype = ctx.dtype(0);
  if (reduction == Reduction::none) {
    // The last update targeting each key (-1: none), then the output reads it.
    ir::Expr source = ir::compute(name + "_source", t.key_shape, [&](const ir::Index& key) {
      return ir::reduce(ir::ReduceOp::max, t.extents, [&](const ir::Index& j) {
        return ir::select(t.match(key, j), flat_index(j, t.extents), ir::Expr(-1));
      });
    });
    return ir::compute(name, ctx.shape(0), [&](const ir::Index& i) {
      ir::Expr last = ir::load(source, t.key(i));
      return ir::select(last >= ir::Expr(0),
                        t.update_at(i, clamp_index(last, shape_numel(t.extents))),
                        ir::load(data, i));
    });
  }
  return ir::compute(name, ctx.shape(0), [&](const ir::Index& i) {
    ir::Expr x = ir::load(data, i);
    auto reduce = [&](ir::ReduceOp op, const ir::Expr& neutral) {
      return ir::reduce(op, t.extents, [&](const ir::Index& j) {
        return ir::select(t.match(t.key(i), j), t.update(i, j), neutral);
      });
    };
    ir::Expr result;
    switch (reduction) {
      case Reduction::add: {
        ir::Expr r = reduce(ir::ReduceOp::sum, constant(dtype, 0));
        result = ir::cast(r.dtype(), x) + r;
        break;
      }
      case Reduction::mul: {
        ir::Expr r = reduce(ir::ReduceOp::prod, constant(dtype, 1));
        result = ir::cast(r.dtype(), x) * r;
        break;
      }
      case Reduction::max:
        result = ir::max(x, reduce(ir::ReduceOp::max, x));
        break;
      case Reduction::min:
        result = ir::min(x, reduce(ir::ReduceOp::min, x));
        break;
      case Reduction::none:
        break;
    }
    return ir::cast(dtype, result);
  });
}

// ScatterElements, and the deprecated Scatter (no reduction).
OpDef scatter_elements_op(std::string type) {
  OpDef def{type};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& data = ctx.shape(0);
    const std::vector<int64_t>& indices = ctx.shape(1);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 1 && ctx.rank(1) == rank && ctx.shape(2) == indices)
        << "data, indices and updates must have one rank (1 or more); indices and updates one "
           "shape";
    TM_OP_CHECK(ctx, ctx.dtype(2) == ctx.dtype(0)) << "updates must have the dtype of data";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
    for (int64_t d = 0; d < rank; ++d) {
      TM_OP_CHECK(ctx, d == axis || indices[d] <= data[d])
          << "indices " << taskmap::shape_str(indices) << " exceed data "
          << taskmap::shape_str(data) << " in dimension " << d;
    }
    // The updates for output element i sit at (i with i[axis] replaced by k), k over indices'
    // axis dimension, when i lies inside indices in the other dimensions.
    auto at = [=](const ir::Index& i, const ir::Expr& k) {
      ir::Index j(rank);
      for (int64_t d = 0; d < rank; ++d) j[d] = d == axis ? k : clamp_index(i[d], indices[d]);
      return j;
    };
    ScatterTarget t;
    t.extents = {indices[axis]};
    t.key_shape = data;
    t.key = [](const ir::Index& i) { return i; };
    t.match = [&](const ir::Index& i, const ir::Index& k) {
      ir::Expr inside = ir::bool_imm(true);
      for (int64_t d = 0; d < rank; ++d) {
        if (d != axis && indices[d] < data[d]) inside = inside && i[d] < ir::Expr(indices[d]);
      }
      return inside && ir::eq(load_index(ctx, 1, at(i, k[0]), data[axis]), i[axis]);
    };
    t.update = [&](const ir::Index& i, const ir::Index& k) {
      return ir::load(ctx.param(2), at(i, k[0]));
    };
    t.update_at = [&](const ir::Index& i, const ir::Expr& k) {
      return ir::load(ctx.param(2), at(i, k));
    };
    return {scatter_compute(ctx, "scatter_elements", scatter_reduction(ctx), t)};
  };
  def.min_opset = type == "Scatter" ? 9 : 11;
  return def;
}

OpDef scatter_nd_op() {
  OpDef def{"ScatterND"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& data = ctx.shape(0);
    const std::vector<int64_t>& indices = ctx.shape(1);
    int64_t ri = ctx.rank(1);
    TM_OP_CHECK(ctx, ri >= 1) << "indices must have rank 1 or more";
    int64_t q = indices.back();
    TM_OP_CHECK(ctx, q >= 1 && q <= ctx.rank(0))
        << "the last dimension of indices (" << q << ") must be in [1, " << ctx.rank(0) << "]";
    std::vector<int64_t> prefix(indices.begin(), indices.end() - 1);
    std::vector<int64_t> expected = prefix;
    expected.insert(expected.end(), data.begin() + q, data.end());
    TM_OP_CHECK(ctx, ctx.shape(2) == expected)
        << "updates have shape " << taskmap::shape_str(ctx.shape(2)) << ", expected "
        << taskmap::shape_str(expected);
    TM_OP_CHECK(ctx, ctx.dtype(2) == ctx.dtype(0)) << "updates must have the dtype of data";
    // A single index tuple (indices of rank 1) reduces over one dummy position.
    bool single = prefix.empty();
    ScatterTarget t;
    t.extents = single ? std::vector<int64_t>{1} : prefix;
    t.key_shape = std::vector<int64_t>(data.begin(), data.begin() + q);
    t.key = [q](const ir::Index& i) { return ir::Index(i.begin(), i.begin() + q); };
    t.match = [&](const ir::Index& key, const ir::Index& j) {
      ir::Index pos = single ? ir::Index{} : j;
      pos.push_back(ir::Expr(0));
      ir::Expr all = ir::bool_imm(true);
      for (int64_t k = 0; k < q; ++k) {
        pos.back() = ir::Expr(k);
        all = all && ir::eq(load_index(ctx, 1, pos, data[k]), key[k]);
      }
      return all;
    };
    t.update = [&](const ir::Index& i, const ir::Index& j) {
      ir::Index u = single ? ir::Index{} : j;
      u.insert(u.end(), i.begin() + q, i.end());
      return ir::load(ctx.param(2), u);
    };
    t.update_at = [&](const ir::Index& i, const ir::Expr& flat) {
      return t.update(i, unravel_index(flat, t.extents));
    };
    return {scatter_compute(ctx, "scatter_nd", scatter_reduction(ctx), t)};
  };
  def.min_opset = 11;
  return def;
}

OpDef one_hot_op() {
  OpDef def{"OneHot"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& indices = ctx.shape(0);
    int64_t rank = ctx.rank(0) + 1;
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
    double depth_value = ctx.value_scalar(1);
    int64_t depth = static_cast<int64_t>(depth_value);
    TM_OP_CHECK(ctx, depth >= 1) << "depth must be positive, got " << depth_value;
    TM_OP_CHECK(ctx, shape_numel(ctx.shape(2)) == 2) << "values must hold two elements";
    TM_OP_CHECK(ctx, !ctx.dtype(0).is_bool()) << "bool indices are not supported";
    std::vector<int64_t> shape = indices;
    shape.insert(shape.begin() + axis, depth);
    ir::Var values = ctx.param(2);
    ir::Index first(ctx.rank(2), ir::Expr(0));
    ir::Index second = first;
    if (!second.empty()) second.back() = ir::Expr(1);
    return {ir::compute("one_hot", shape, [&](const ir::Index& i) {
      ir::Index j = i;
      j.erase(j.begin() + axis);
      ir::Expr v = ir::cast(ir::i64, ir::load(ctx.param(0), j));
      v = ir::select(v < ir::Expr(0), v + depth, v);
      return ir::select(ir::eq(v, i[axis]), ir::load(values, second), ir::load(values, first));
    })};
  };
  def.min_opset = 9;
  return def;
}

}  // namespace

void register_tensor_index_ops(std::vector<OpDef>& defs) {
  defs.push_back(gather_op());
  defs.push_back(gather_elements_op());
  defs.push_back(gather_nd_op());
  defs.push_back(scatter_elements_op("ScatterElements"));
  defs.push_back(scatter_elements_op("Scatter"));
  defs.push_back(scatter_nd_op());
  defs.push_back(one_hot_op());
}

}  // namespace taskmap::graph::ops::tensor
