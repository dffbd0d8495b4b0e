// Resize and Upsample: nearest, linear and cubic interpolation, separable over the dimensions.
//
// Each output element reads a few taps per resized dimension (1 for nearest, 2 for linear, 4 for
// cubic; with antialias, downsampling widens the kernel by 1 / scale) around its source coordinate,
// computed in f64 from the output position by the coordinate transformation mode. Taps outside the
// input read its edge, as in the ONNX reference; `exclude_outside` gives them weight 0 instead.
// Upsample and Resize-10 use the asymmetric transformation with the "simple" nearest rounding
// (floor, ceil when downsampling).
#include <algorithm>
#include <cmath>
#include <functional>

#include "graph/ops/tensor_util.h"

namespace taskmap::graph::ops::tensor {
namespace {

struct ResizeAttrs {
  std::string mode = "nearest";
  std::string transform = "half_pixel";
  std::string nearest = "round_prefer_floor";  // or "simple" (Upsample, Resize-10)
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;  // linear / cubic: widen the kernel when downsampling
};

// How one dimension is resized.
struct AxisPlan {
  int64_t in = 1, out = 1;
  double scale = 1.0;
  double length = 1.0;  // the resized length the coordinate transform divides by: out or scale*in
  double roi_start = 0.0, roi_end = 1.0;
};

bool is_identity(const ResizeAttrs& a, const AxisPlan& p) {
  return p.in == p.out && p.scale == 1.0 && a.transform != "tf_crop_and_resize" &&
         a.transform != "tf_half_pixel_for_nn";
}

// The source coordinate of output position x (f64).
ir::Expr source_coordinate(const ResizeAttrs& a, const AxisPlan& p, const ir::Expr& x) {
  const std::string& m = a.transform;
  if (m == "asymmetric") return x / p.scale;
  if (m == "half_pixel") return (x + 0.5) / p.scale - 0.5;
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / p.scale;
  if (m == "pytorch_half_pixel") {
    if (p.out <= 1) return ir::float_imm(0, ir::f64);
    return (x + 0.5) / p.scale - 0.5;
  }
  if (m == "half_pixel_symmetric") {
    double adjustment = static_cast<double>(p.out) / p.length;
    double offset = p.in / 2.0 * (1 - adjustment);
    return (x + 0.5) / p.scale - 0.5 + offset;
  }
  double span = static_cast<double>(p.in - 1);
  if (m == "align_corners") {
    if (p.length == 1.0) return ir::float_imm(0, ir::f64);
    return x * span / (p.length - 1);
  }
  // tf_crop_and_resize
  if (p.length == 1.0) return ir::float_imm((p.roi_start + p.roi_end) / 2 * span, ir::f64);
  return x * ((p.roi_end - p.roi_start) * span) / (p.length - 1) + p.roi_start * span;
}

// How one output coordinate reads its dimension: one position (identity, nearest), or `count`
// taps that the compute reduces over, tap j at `position(j)` (unclamped) with `weight(j)` (f64).
struct Taps {
  ir::Expr index;  // the one position, when there are no taps
  int64_t count = 0;
  std::function<ir::Expr(const ir::Expr&)> position;
  std::function<ir::Expr(const ir::Expr&)> weight;
  bool normalize = false;  // divide by the sum of the weights
  ir::Expr outside;        // tf_crop_and_resize: the coordinate leaves the input
};

// The interpolation kernel at distance t (f64, >= 0): linear, or Keys' cubic with parameter A.
ir::Expr kernel_at(const std::string& mode, double A, const ir::Expr& t) {
  ir::Expr zero = ir::float_imm(0, ir::f64);
  if (mode == "linear") return ir::max(1.0 - t, zero);
  ir::Expr near = ((A + 2) * t - (A + 3)) * t * t + 1.0;
  ir::Expr far = ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
  return ir::select(t <= ir::float_imm(1, ir::f64), near,
                    ir::select(t < ir::float_imm(2, ir::f64), far, zero));
}

Taps axis_taps(const ResizeAttrs& a, const AxisPlan& p, const ir::Expr& i) {
  Taps taps;
  if (is_identity(a, p)) {
    taps.index = i;
    return taps;
  }
  ir::Expr x = source_coordinate(a, p, ir::cast(ir::f64, i));
  if (a.transform == "tf_crop_and_resize") {
    taps.outside = x < ir::float_imm(0, ir::f64) || x > ir::float_imm(p.in - 1.0, ir::f64);
  }
  ir::Expr base = ir::call("floor", {x});
  ir::Expr ratio = x - base;
  if (a.mode == "nearest") {
    const std::string& n = a.nearest;
    ir::Expr chosen;
    if (n == "simple") {
      chosen = p.scale < 1.0 ? ir::call("ceil", {x}) : base;
    } else if (n == "floor") {
      chosen = base;
    } else if (n == "ceil") {
      chosen = ir::call("ceil", {x});
    } else {
      ir::Expr up = n == "round_prefer_ceil" ? ratio >= ir::float_imm(0.5, ir::f64)
                                             : ratio > ir::float_imm(0.5, ir::f64);
      chosen = ir::select(up, base + 1.0, base);
    }
    taps.index = clamp_index(ir::cast(ir::i64, chosen), p.in);
    return taps;
  }
  // Linear and cubic: taps at offsets [start, 1 - start] from `first`, the input position at or
  // below x (a whole coordinate counts as the right end of its interval: ratio 1). Antialiasing
  // stretches the kernel by 1 / scale when downsampling.
  ir::Expr first_f = ir::call("ceil", {x}) - 1.0;
  ir::Expr first = ir::cast(ir::i64, first_f);
  ratio = x - first_f;
  double stretch = a.antialias && p.scale < 1.0 ? p.scale : 1.0;
  double reach = a.mode == "linear" ? 1.0 : 2.0;
  int64_t start = static_cast<int64_t>(std::floor(-reach / stretch)) + 1;
  taps.count = 2 - 2 * start;
  taps.position = [first, start](const ir::Expr& j) { return first + start + j; };
  std::string mode = a.mode;
  double A = a.cubic_a;
  int64_t in = p.in;
  bool exclude = a.exclude_outside;
  taps.weight = [=](const ir::Expr& j) {
    ir::Expr offset = ir::cast(ir::f64, j + start);
    ir::Expr w = kernel_at(mode, A, ir::call("abs", {(offset - ratio) * stretch}));
    if (!exclude) return w;
    ir::Expr pos = first + start + j;
    return ir::select(pos >= ir::Expr(0) && pos < ir::Expr(in), w, ir::float_imm(0, ir::f64));
  };
  taps.normalize = stretch != 1.0 || exclude;
  return taps;
}

// The resized tensor: input 0 resized by `plans` (one per dimension). Interpolating dimensions
// become reduce axes over their taps.
ir::Expr resize_compute(const OpContext& ctx, const ResizeAttrs& a,
                        const std::vector<AxisPlan>& plans) {
  ir::DType dtype = ctx.dtype(0);
  TM_OP_CHECK(ctx, !dtype.is_bool()) << "bool data is not supported";
  ir::DType acc = dtype == ir::f64 ? ir::f64 : ir::f32;
  std::vector<int64_t> shape;
  for (const AxisPlan& p : plans) {
    TM_OP_CHECK(ctx, p.in > 0 || p.out == 0)
        << "cannot resize a dimension of size 0 to size " << p.out;
    shape.push_back(p.out);
  }
  ir::Var x = ctx.param(0);
  return ir::compute("resize", shape, [&](const ir::Index& i) {
    size_t rank = plans.size();
    std::vector<Taps> taps;
    std::vector<size_t> interpolated;
    std::vector<int64_t> extents;
    ir::Expr outside;
    for (size_t d = 0; d < rank; ++d) {
      taps.push_back(axis_taps(a, plans[d], i[d]));
      if (taps[d].count > 0) {
        interpolated.push_back(d);
        extents.push_back(taps[d].count);
      }
      if (taps[d].outside.defined())
        outside = outside.defined() ? outside || taps[d].outside : taps[d].outside;
    }
    ir::Expr value;
    if (interpolated.empty()) {
      ir::Index j(rank);
      for (size_t d = 0; d < rank; ++d) j[d] = taps[d].index;
      value = ir::load(x, j);
    } else {
      value = ir::reduce(ir::ReduceOp::sum, extents, [&](const ir::Index& t) {
        ir::Index j(rank);
        for (size_t d = 0; d < rank; ++d) j[d] = taps[d].index;
        ir::Expr weight;
        for (size_t k = 0; k < interpolated.size(); ++k) {
          const Taps& tk = taps[interpolated[k]];
          j[interpolated[k]] = clamp_index(tk.position(t[k]), plans[interpolated[k]].in);
          ir::Expr w = tk.weight(t[k]);
          weight = weight.defined() ? weight * w : w;
        }
        return ir::cast(acc, ir::load(x, j)) * ir::cast(acc, weight);
      });
      ir::Expr norm;
      for (size_t d : interpolated) {
        if (!taps[d].normalize) continue;
        ir::Expr total = ir::reduce(ir::ReduceOp::sum, {taps[d].count},
                                    [&](const ir::Index& t) { return taps[d].weight(t[0]); });
        norm = norm.defined() ? norm * total : total;
      }
      if (norm.defined()) value = value / ir::cast(acc, norm);
    }
    value = ir::cast(dtype, value);
    if (outside.defined()) value = ir::select(outside, constant(dtype, a.extrapolation), value);
    return value;
  });
}

// Inputs holding data (given and not empty).
bool given(const OpContext& ctx, int i) {
  return ctx.has_input(i) && shape_numel(ctx.shape(i)) > 0;
}

std::vector<double> float_values(const OpContext& ctx, int i) {
  const NDArray& v = ctx.value(i);
  std::vector<double> out(v.numel());
  for (int64_t k = 0; k < v.numel(); ++k) out[k] = v.get_double(k);
  return out;
}

// Plans from per-dimension scales: out = floor(in * scale).
std::vector<AxisPlan> plans_from_scales(const OpContext& ctx, const std::vector<double>& scales) {
  const std::vector<int64_t>& in = ctx.shape(0);
  TM_OP_CHECK(ctx, scales.size() == in.size())
      << "scales has " << scales.size() << " entries for rank " << in.size();
  std::vector<AxisPlan> plans(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    TM_OP_CHECK(ctx, scales[d] > 0) << "scales must be positive";
    plans[d].in = in[d];
    plans[d].scale = scales[d];
    plans[d].length = scales[d] * static_cast<double>(in[d]);
    plans[d].out = static_cast<int64_t>(std::floor(plans[d].length));
  }
  return plans;
}

ResizeAttrs legacy_attrs(const OpContext& ctx) {
  ResizeAttrs a;
  a.mode = ctx.attr_string("mode", "nearest");
  TM_OP_CHECK(ctx, a.mode == "nearest" || a.mode == "linear")
      << "mode '" << a.mode << "' is not supported";
  a.transform = "asymmetric";
  a.nearest = "simple";
  return a;
}

OpDef upsample_op() {
  OpDef def{"Upsample"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    std::vector<double> scales =
        ctx.opset() != 0 && ctx.opset() < 9 ? ctx.attr_floats("scales", {}) : float_values(ctx, 1);
    return {resize_compute(ctx, legacy_attrs(ctx), plans_from_scales(ctx, scales))};
  };
  def.min_opset = 7;
  return def;
}

// Resize-11 and newer: scales or sizes, optionally over `axes` only.
std::vector<AxisPlan> resize_plans(const OpContext& ctx, const ResizeAttrs& a) {
  const std::vector<int64_t>& in = ctx.shape(0);
  int64_t rank = ctx.rank(0);
  std::vector<int64_t> axes(rank);
  for (int64_t d = 0; d < rank; ++d) axes[d] = d;
  if (ctx.has_attr("axes")) axes = normalize_axes(ctx, ctx.attr_ints("axes"), rank);
  size_t n = axes.size();
  std::vector<AxisPlan> plans(rank);
  for (int64_t d = 0; d < rank; ++d) plans[d].in = plans[d].out = in[d];
  if (given(ctx, 3)) {
    TM_OP_CHECK(ctx, !given(ctx, 2)) << "only one of scales and sizes may be given";
    std::vector<int64_t> sizes = ctx.value_ints(3);
    TM_OP_CHECK(ctx, sizes.size() == n)
        << "sizes has " << sizes.size() << " entries, expected " << n;
    std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
    TM_OP_CHECK(ctx, policy == "stretch" || policy == "not_larger" || policy == "not_smaller")
        << "keep_aspect_ratio_policy '" << policy << "' is not supported";
    double common = policy == "not_larger" ? INFINITY : 0.0;
    for (size_t k = 0; k < n; ++k) {
      double s = static_cast<double>(sizes[k]) / static_cast<double>(in[axes[k]]);
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    for (size_t k = 0; k < n; ++k) {
      AxisPlan& p = plans[axes[k]];
      TM_OP_CHECK(ctx, sizes[k] >= 0) << "sizes must not be negative";
      if (policy == "stretch") {
        p.out = sizes[k];
        p.scale = static_cast<double>(p.out) / static_cast<double>(p.in);
      } else {
        p.scale = common;
        p.out = static_cast<int64_t>(std::floor(common * static_cast<double>(p.in) + 0.5));
      }
      p.length = policy == "stretch" ? static_cast<double>(p.out) : p.scale * p.in;
    }
  } else {
    TM_OP_CHECK(ctx, given(ctx, 2)) << "one of scales and sizes must be given";
    std::vector<double> scales = float_values(ctx, 2);
    TM_OP_CHECK(ctx, scales.size() == n)
        << "scales has " << scales.size() << " entries, expected " << n;
    for (size_t k = 0; k < n; ++k) {
      AxisPlan& p = plans[axes[k]];
      TM_OP_CHECK(ctx, scales[k] > 0) << "scales must be positive";
      p.scale = scales[k];
      p.length = scales[k] * static_cast<double>(p.in);
      p.out = static_cast<int64_t>(std::floor(p.length));
    }
  }
  if (a.transform == "tf_crop_and_resize") {
    TM_OP_CHECK(ctx, given(ctx, 1)) << "tf_crop_and_resize needs roi";
    std::vector<double> roi = float_values(ctx, 1);
    TM_OP_CHECK(ctx, roi.size() == 2 * n)
        << "roi has " << roi.size() << " entries, expected " << 2 * n;
    for (size_t k = 0; k < n; ++k) {
      plans[axes[k]].roi_start = roi[k];
      plans[axes[k]].roi_end = roi[k + n];
    }
  }
  return plans;
}

OpDef resize_op() {
  OpDef def{"Resize"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    if (ctx.opset() != 0 && ctx.opset() < 11) {
      return {resize_compute(ctx, legacy_attrs(ctx), plans_from_scales(ctx, float_values(ctx, 1)))};
    }
    ResizeAttrs a;
    a.mode = ctx.attr_string("mode", "nearest");
    a.transform = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
    a.nearest = ctx.attr_string("nearest_mode", "round_prefer_floor");
    a.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75);
    a.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
    a.extrapolation = ctx.attr_float("extrapolation_value", 0.0);
    a.antialias = ctx.attr_int("antialias", 0) != 0;
    TM_OP_CHECK(ctx, a.mode == "nearest" || a.mode == "linear" || a.mode == "cubic")
        << "mode '" << a.mode << "' is not supported";
    static const std::vector<std::string> transforms = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    TM_OP_CHECK(ctx,
                std::find(transforms.begin(), transforms.end(), a.transform) != transforms.end())
        << "coordinate_transformation_mode '" << a.transform << "' is not supported";
    TM_OP_CHECK(ctx, a.nearest == "round_prefer_floor" || a.nearest == "round_prefer_ceil" ||
                         a.nearest == "floor" || a.nearest == "ceil")
        << "nearest_mode '" << a.nearest << "' is not supported";
    std::vector<AxisPlan> plans = resize_plans(ctx, a);
    return {resize_compute(ctx, a, plans)};
  };
  def.min_opset = 10;
  return def;
}

}  // namespace

void register_tensor_resize_ops(std::vector<OpDef>& defs) {
  defs.push_back(upsample_op());
  defs.push_back(resize_op());
}

}  // namespace taskmap::graph::ops::tensor
