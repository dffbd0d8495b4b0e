// Operators that move elements to new positions: Transpose, Concat, Split, Slice, Pad, Tile,
// Expand, DepthToSpace, SpaceToDepth, Trilu.
#include <algorithm>

#include "graph/ops/tensor_util.h"

namespace taskmap::graph::ops::tensor {
namespace {

OpDef transpose_op() {
  OpDef def{"Transpose"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t rank = ctx.rank(0);
    std::vector<int64_t> perm(rank);
    for (int64_t d = 0; d < rank; ++d) perm[d] = rank - 1 - d;
    perm = ctx.attr_ints("perm", perm);
    TM_OP_CHECK(ctx, static_cast<int64_t>(perm.size()) == rank)
        << "perm has " << perm.size() << " entries for rank " << rank;
    perm = normalize_axes(ctx, perm, rank);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    TM_OP_CHECK(ctx, std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end())
        << "perm is not a permutation";
    const std::vector<int64_t>& in = ctx.shape(0);
    std::vector<int64_t> shape(rank);
    for (int64_t d = 0; d < rank; ++d) shape[d] = in[perm[d]];
    ir::Var x = ctx.param(0);
    return {ir::compute("transpose", shape, [&](const ir::Index& i) {
      ir::Index j(rank);
      for (int64_t d = 0; d < rank; ++d) j[perm[d]] = i[d];
      return ir::load(x, j);
    })};
  };
  return def;
}

OpDef concat_op() {
  OpDef def{"Concat"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.num_inputs() >= 1) << "needs at least one input";
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 1) << "cannot concatenate scalars";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", ctx.opset() < 4 ? 1 : 0), rank);
    std::vector<int64_t> shape = ctx.shape(0);
    shape[axis] = 0;
    std::vector<int> parts;  // the non-empty inputs
    std::vector<int64_t> ends;
    for (int k = 0; k < ctx.num_inputs(); ++k) {
      const std::vector<int64_t>& s = ctx.shape(k);
      TM_OP_CHECK(ctx, ctx.dtype(k) == ctx.dtype(0) && ctx.rank(k) == rank)
          << "input " << k << " (" << ctx.dtype(k).name() << taskmap::shape_str(s)
          << ") does not match input 0 (" << ctx.dtype(0).name() << taskmap::shape_str(ctx.shape(0))
          << ")";
      for (int64_t d = 0; d < rank; ++d) {
        TM_OP_CHECK(ctx, d == axis || s[d] == shape[d])
            << "input " << k << " has shape " << taskmap::shape_str(s) << ", input 0 "
            << taskmap::shape_str(ctx.shape(0)) << ": only dimension " << axis << " may differ";
      }
      shape[axis] += s[axis];
      if (shape_numel(s) == 0) continue;
      parts.push_back(k);
      ends.push_back(shape[axis]);
    }
    return {ir::compute("concat", shape, [&](const ir::Index& i) {
      if (parts.empty()) return constant(ctx.dtype(0), 0);
      ir::Expr value;
      for (size_t p = parts.size(); p-- > 0;) {
        int k = parts[p];
        int64_t begin = p == 0 ? 0 : ends[p - 1];
        ir::Index j = i;
        j[axis] = clamp_index(i[axis] - begin, ctx.shape(k)[axis]);
        ir::Expr part = ir::load(ctx.param(k), j);
        value = value.defined() ? ir::select(i[axis] < ir::Expr(ends[p]), part, value) : part;
      }
      return value;
    })};
  };
  return def;
}

// The sizes of Split's outputs along `dim` elements.
std::vector<int64_t> split_sizes(const OpContext& ctx, int64_t dim) {
  bool present = false;
  std::vector<int64_t> sizes;
  if (ctx.has_attr("split") || (ctx.has_input(1) && (ctx.opset() == 0 || ctx.opset() >= 13))) {
    sizes = ints_input_or_attr(ctx, 1, 13, "split", &present);
  }
  int64_t n = ctx.num_outputs();
  if (present) {
    TM_OP_CHECK(ctx, static_cast<int64_t>(sizes.size()) == n)
        << "split has " << sizes.size() << " sizes for " << n << " outputs";
    int64_t total = 0;
    for (int64_t s : sizes) {
      TM_OP_CHECK(ctx, s >= 0) << "negative split size";
      total += s;
    }
    TM_OP_CHECK(ctx, total == dim) << "split sizes add up to " << total << ", not " << dim;
    return sizes;
  }
  n = ctx.attr_int("num_outputs", n);
  TM_OP_CHECK(ctx, n >= 1 && n == ctx.num_outputs())
      << "num_outputs is " << n << " but the node has " << ctx.num_outputs() << " outputs";
  int64_t chunk = (dim + n - 1) / n;
  TM_OP_CHECK(ctx, dim % n == 0 || ctx.has_attr("num_outputs"))
      << "dimension of size " << dim << " cannot be split evenly into " << n << " outputs";
  for (int64_t k = 0; k < n; ++k) sizes.push_back(std::clamp<int64_t>(dim - k * chunk, 0, chunk));
  return sizes;
}

OpDef split_op() {
  OpDef def{"Split"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), ctx.rank(0));
    std::vector<int64_t> shape = ctx.shape(0);
    std::vector<int64_t> sizes = split_sizes(ctx, shape[axis]);
    ir::Var x = ctx.param(0);
    Outputs outputs;
    int64_t begin = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      shape[axis] = sizes[k];
      outputs.push_back(ir::compute("split" + std::to_string(k), shape, [&](const ir::Index& i) {
        ir::Index j = i;
        j[axis] = i[axis] + begin;
        return ir::load(x, j);
      }));
      begin += sizes[k];
    }
    return outputs;
  };
  return def;
}

OpDef slice_op() {
  OpDef def{"Slice"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t rank = ctx.rank(0);
    const std::vector<int64_t>& in = ctx.shape(0);
    bool inputs = ctx.opset() == 0 || ctx.opset() >= 10;
    std::vector<int64_t> starts = inputs ? ctx.value_ints(1) : ctx.attr_ints("starts");
    std::vector<int64_t> ends = inputs ? ctx.value_ints(2) : ctx.attr_ints("ends");
    size_t n = starts.size();
    TM_OP_CHECK(ctx, ends.size() == n) << "starts and ends differ in length";
    std::vector<int64_t> axes(n), steps(n, 1);
    for (size_t k = 0; k < n; ++k) axes[k] = static_cast<int64_t>(k);
    if (inputs) {
      if (ctx.has_input(3)) axes = ctx.value_ints(3);
      if (ctx.has_input(4)) steps = ctx.value_ints(4);
    } else {
      axes = ctx.attr_ints("axes", axes);
    }
    TM_OP_CHECK(ctx, axes.size() == n && steps.size() == n)
        << "starts, ends, axes and steps differ in length";
    axes = normalize_axes(ctx, axes, rank);
    std::vector<int64_t> begin(rank, 0), step(rank, 1), shape = in;
    for (size_t k = 0; k < n; ++k) {
      int64_t d = axes[k], dim = in[d], s = starts[k], e = ends[k], st = steps[k];
      TM_OP_CHECK(ctx, st != 0) << "step must not be 0";
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      if (st > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        shape[d] = e > s ? (e - s - 1) / st + 1 : 0;
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        shape[d] = s > e ? (s - e - 1) / -st + 1 : 0;
      }
      begin[d] = s;
      step[d] = st;
    }
    ir::Var x = ctx.param(0);
    return {ir::compute("slice", shape, [&](const ir::Index& i) {
      ir::Index j(rank);
      for (int64_t d = 0; d < rank; ++d) j[d] = i[d] * step[d] + begin[d];
      return ir::load(x, j);
    })};
  };
  return def;
}

// Pad's constant, of x's dtype.
ir::Expr pad_value(const OpContext& ctx, bool from_input) {
  ir::DType dtype = ctx.dtype(0);
  if (!from_input) return constant(dtype, ctx.attr_float("value", 0.0));
  if (!ctx.has_input(2) || ctx.value(2).numel() == 0) return constant(dtype, 0);
  const NDArray& v = ctx.value(2);
  if (dtype.is_float()) return ir::float_imm(v.get_double(0), dtype);
  return ir::int_imm(v.get_int(0), dtype);
}

// Position in a dimension of size n that padded position `i` (already shifted by the leading pad)
// reads in `mode`.
ir::Expr pad_source(const std::string& mode, const ir::Expr& i, int64_t n) {
  if (mode == "edge") return clamp_index(i, n);
  if (mode == "wrap") return ((i % n) + n) % n;
  // reflect: period 2(n - 1), mirrored in its second half.
  if (n == 1) return ir::Expr(0);
  int64_t period = 2 * (n - 1);
  ir::Expr r = ((i % period) + period) % period;
  return clamp_index(ir::select(r < ir::Expr(n), r, ir::Expr(period) - r), n);
}

OpDef pad_op() {
  OpDef def{"Pad"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    int64_t rank = ctx.rank(0);
    const std::vector<int64_t>& in = ctx.shape(0);
    bool inputs = ctx.opset() == 0 || ctx.opset() >= 11;
    std::vector<int64_t> pads = inputs ? ctx.value_ints(1) : ctx.attr_ints("pads");
    std::vector<int64_t> axes(rank);
    for (int64_t d = 0; d < rank; ++d) axes[d] = d;
    if (inputs && ctx.has_input(3)) axes = normalize_axes(ctx, ctx.value_ints(3), rank);
    size_t n = axes.size();
    TM_OP_CHECK(ctx, pads.size() == 2 * n)
        << "pads has " << pads.size() << " entries, expected " << 2 * n;
    std::string mode = ctx.attr_string("mode", "constant");
    TM_OP_CHECK(ctx, mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap")
        << "mode '" << mode << "' is not supported";
    std::vector<int64_t> before(rank, 0), shape = in;
    for (size_t k = 0; k < n; ++k) {
      int64_t d = axes[k];
      before[d] = pads[k];
      shape[d] = in[d] + pads[k] + pads[k + n];
      TM_OP_CHECK(ctx, shape[d] >= 0) << "pads " << taskmap::shape_str(pads) << " remove more than "
                                      << taskmap::shape_str(in) << " holds";
    }
    ir::Expr value = pad_value(ctx, inputs);
    bool empty = shape_numel(in) == 0;
    TM_OP_CHECK(ctx, !empty || mode == "constant" || shape_numel(shape) == 0)
        << "mode '" << mode << "' cannot pad an empty tensor";
    return {ir::compute("pad", shape, [&](const ir::Index& i) {
      if (empty) return value;
      ir::Index j(rank);
      ir::Expr inside = ir::bool_imm(true);
      for (int64_t d = 0; d < rank; ++d) {
        ir::Expr p = i[d] - before[d];
        if (mode != "constant") {
          j[d] = before[d] == 0 && shape[d] <= in[d] ? p : pad_source(mode, p, in[d]);
          continue;
        }
        j[d] = clamp_index(p, in[d]);
        if (before[d] > 0) inside = inside && p >= ir::Expr(0);
        if (shape[d] - before[d] > in[d]) inside = inside && p < ir::Expr(in[d]);
      }
      ir::Expr x = ir::load(ctx.param(0), j);
      return mode == "constant" ? ir::select(inside, x, value) : x;
    })};
  };
  return def;
}

OpDef tile_op() {
  OpDef def{"Tile"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const std::vector<int64_t>& in = ctx.shape(0);
    std::vector<int64_t> repeats = ctx.value_ints(1);
    TM_OP_CHECK(ctx, repeats.size() == in.size())
        << "repeats has " << repeats.size() << " entries for rank " << in.size();
    std::vector<int64_t> shape(in.size());
    for (size_t d = 0; d < in.size(); ++d) {
      TM_OP_CHECK(ctx, repeats[d] >= 0) << "negative repeat";
      shape[d] = in[d] * repeats[d];
    }
    ir::Var x = ctx.param(0);
    return {ir::compute("tile", shape, [&](const ir::Index& i) {
      ir::Index j(in.size());
      for (size_t d = 0; d < in.size(); ++d) j[d] = repeats[d] == 1 ? i[d] : i[d] % in[d];
      return ir::load(x, j);
    })};
  };
  return def;
}

OpDef expand_op() {
  OpDef def{"Expand"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    std::vector<int64_t> shape = broadcast_shapes(ctx, {ctx.shape(0), ctx.value_ints(1)});
    return {ir::compute("expand", shape, [&](const ir::Index& i) {
      return load_broadcast(ctx.param(0), ctx.shape(0), i);
    })};
  };
  def.min_opset = 8;
  return def;
}

// DepthToSpace (to_space) and SpaceToDepth on NCHW tensors.
OpDef depth_space_op(std::string type, bool to_space) {
  OpDef def{type};
  def.lower = [to_space](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.rank(0) == 4) << "the input must have rank 4, got " << ctx.rank(0);
    int64_t b = ctx.attr_int("blocksize");
    TM_OP_CHECK(ctx, b >= 1) << "blocksize must be positive";
    const std::vector<int64_t>& in = ctx.shape(0);
    ir::Var x = ctx.param(0);
    if (to_space) {
      std::string mode = ctx.attr_string("mode", "DCR");
      TM_OP_CHECK(ctx, mode == "DCR" || mode == "CRD") << "mode '" << mode << "' is not supported";
      TM_OP_CHECK(ctx, in[1] % (b * b) == 0)
          << "channels " << in[1] << " are not a multiple of blocksize^2 = " << b * b;
      int64_t c = in[1] / (b * b);
      return {
          ir::compute("depth_to_space", {in[0], c, in[2] * b, in[3] * b}, [&](const ir::Index& i) {
            ir::Expr bh = i[2] % b, bw = i[3] % b;
            ir::Expr channel = mode == "DCR" ? (bh * b + bw) * c + i[1] : (i[1] * b + bh) * b + bw;
            return ir::load(x, {i[0], channel, i[2] / b, i[3] / b});
          })};
    }
    TM_OP_CHECK(ctx, in[2] % b == 0 && in[3] % b == 0)
        << "spatial dimensions " << taskmap::shape_str(in) << " are not multiples of blocksize "
        << b;
    int64_t c = in[1];
    return {ir::compute("space_to_depth", {in[0], c * b * b, in[2] / b, in[3] / b},
                        [&](const ir::Index& i) {
                          ir::Expr ch = i[1] % c, bw = (i[1] / c) % b, bh = i[1] / (c * b);
                          return ir::load(x, {i[0], ch, i[2] * b + bh, i[3] * b + bw});
                        })};
  };
  return def;
}

OpDef trilu_op() {
  OpDef def{"Trilu"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    TM_OP_CHECK(ctx, ctx.rank(0) >= 2) << "the input must have rank 2 or more";
    int64_t k = ctx.has_input(1) ? static_cast<int64_t>(ctx.value(1).get_int(0)) : 0;
    bool upper = ctx.attr_int("upper", 1) != 0;
    ir::Var x = ctx.param(0);
    int64_t r = ctx.rank(0);
    return {ir::compute("trilu", ctx.shape(0), [&](const ir::Index& i) {
      ir::Expr diagonal = i[r - 1] - i[r - 2];
      ir::Expr keep = upper ? diagonal >= ir::Expr(k) : diagonal <= ir::Expr(k);
      return ir::select(keep, ir::load(x, i), constant(ctx.dtype(0), 0));
    })};
  };
  def.min_opset = 14;
  return def;
}

}  // namespace

void register_tensor_layout_ops(std::vector<OpDef>& defs) {
  defs.push_back(transpose_op());
  defs.push_back(concat_op());
  defs.push_back(split_op());
  defs.push_back(slice_op());
  defs.push_back(pad_op());
  defs.push_back(tile_op());
  defs.push_back(expand_op());
  defs.push_back(depth_space_op("DepthToSpace", true));
  defs.push_back(depth_space_op("SpaceToDepth", false));
  defs.push_back(trilu_op());
}

}  // namespace taskmap::graph::ops::tensor
