// NonMaxSuppression and RoiAlign: the box operators of detection models.
//
// NonMaxSuppression's output length depends on the data, so it runs on the host. RoiAlign is a
// compute: each output element averages (or takes the largest of) bilinear samples on a grid in
// its bin, as in the ONNX reference (a sample outside [-1, size] contributes 0).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <tuple>

#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops::misc {
namespace {

using ir::Expr;
using ir::ReduceOp;

// ---- NonMaxSuppression ------------------------------------------------------------------------

struct Box {
  double x_min, y_min, x_max, y_max;
};

Box read_box(const NDArray& boxes, int64_t flat, bool center_point) {
  double a = boxes.get_double(flat), b = boxes.get_double(flat + 1);
  double c = boxes.get_double(flat + 2), d = boxes.get_double(flat + 3);
  if (center_point) return {a - c / 2, b - d / 2, a + c / 2, b + d / 2};    // [x, y, w, h]
  return {std::min(b, d), std::min(a, c), std::max(b, d), std::max(a, c)};  // [y1, x1, y2, x2]
}

// Whether two boxes overlap by more than `threshold` (intersection over union).
bool overlaps(const Box& p, const Box& q, double threshold) {
  double width = std::min(p.x_max, q.x_max) - std::max(p.x_min, q.x_min);
  double height = std::min(p.y_max, q.y_max) - std::max(p.y_min, q.y_min);
  if (width <= 0 || height <= 0) return false;
  double intersection = width * height;
  double area_p = (p.x_max - p.x_min) * (p.y_max - p.y_min);
  double area_q = (q.x_max - q.x_min) * (q.y_max - q.y_min);
  double union_area = area_p + area_q - intersection;
  if (area_p <= 0 || area_q <= 0 || union_area <= 0) return false;
  return intersection / union_area > threshold;
}

// The selected [batch, class, box] triples, in output order.
std::vector<std::array<int64_t, 3>> select_boxes(const OpContext& ctx) {
  const NDArray& boxes = ctx.value(0);
  const NDArray& scores = ctx.value(1);
  TM_OP_CHECK(ctx, boxes.rank() == 3 && boxes.shape()[2] == 4)
      << "boxes must have shape [batches, boxes, 4], not " << shape_str(boxes.shape());
  int64_t batches = boxes.shape()[0], count = boxes.shape()[1];
  TM_OP_CHECK(ctx, scores.rank() == 3 && scores.shape()[0] == batches && scores.shape()[2] == count)
      << "scores must have shape [" << batches << ", classes, " << count << "], not "
      << shape_str(scores.shape());
  int64_t classes = scores.shape()[1];
  auto scalar = [&](int i, double fallback) {
    if (!ctx.has_input(i) || ctx.value(i).numel() == 0) return fallback;
    return ctx.value(i).get_double(0);
  };
  int64_t max_boxes = std::max<int64_t>(static_cast<int64_t>(scalar(2, 0)), 0);
  double iou_threshold = scalar(3, 0);
  bool has_score_threshold = ctx.has_input(4) && ctx.value(4).numel() > 0;
  double score_threshold = scalar(4, 0);
  bool center_point = ctx.attr_int("center_point_box", 0) != 0;

  std::vector<std::array<int64_t, 3>> selected;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t c = 0; c < classes; ++c) {
      int64_t row = (b * classes + c) * count;
      std::vector<int64_t> candidates;
      for (int64_t k = 0; k < count; ++k) {
        if (!has_score_threshold || scores.get_double(row + k) > score_threshold)
          candidates.push_back(k);
      }
      // Highest score first; equal scores by box index.
      std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t p, int64_t q) {
        return scores.get_double(row + p) > scores.get_double(row + q);
      });
      std::vector<Box> kept;
      for (int64_t k : candidates) {
        if (static_cast<int64_t>(kept.size()) >= max_boxes) break;
        Box box = read_box(boxes, (b * count + k) * 4, center_point);
        bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Box& other) {
          return overlaps(box, other, iou_threshold);
        });
        if (suppressed) continue;
        kept.push_back(box);
        selected.push_back({b, c, k});
      }
    }
  }
  return selected;
}

OpDef non_max_suppression() {
  OpDef def{"NonMaxSuppression"};
  def.min_opset = 10;
  def.infer = [](const OpContext& ctx) -> std::vector<OutputType> {
    return {{ir::i64, {static_cast<int64_t>(select_boxes(ctx).size()), 3}}};
  };
  def.evaluate = [](const OpContext& ctx) -> std::vector<NDArray> {
    std::vector<std::array<int64_t, 3>> selected = select_boxes(ctx);
    NDArray out(ir::i64, {static_cast<int64_t>(selected.size()), 3});
    for (size_t k = 0; k < selected.size(); ++k)
      std::copy(selected[k].begin(), selected[k].end(), out.data<int64_t>() + 3 * k);
    return {out};
  };
  return def;
}

// ---- RoiAlign ---------------------------------------------------------------------------------

struct RoiAlignParams {
  int64_t height, width, out_h, out_w;
  int64_t sampling_ratio;
  double spatial_scale;
  bool half_pixel, max_mode;
  int64_t grid_h, grid_w;  // the sample grid's extent (the largest over the rois when adaptive)
};

// One roi's geometry in f64: its start, its bin size and its sample grid, per axis.
struct RoiGeometry {
  Expr start_h, start_w, bin_h, bin_w, grid_h, grid_w;
};

RoiGeometry roi_geometry(const OpContext& ctx, const RoiAlignParams& p, const Expr& r) {
  auto coordinate = [&](int64_t k) {
    Expr v = ir::cast(ir::f64, ir::load(ctx.param(1), {r, Expr(k)})) * p.spatial_scale;
    return p.half_pixel ? v - 0.5 : v;
  };
  RoiGeometry g;
  g.start_w = coordinate(0);
  g.start_h = coordinate(1);
  Expr roi_w = coordinate(2) - g.start_w, roi_h = coordinate(3) - g.start_h;
  if (!p.half_pixel) {  // malformed rois are forced to 1 x 1
    roi_w = ir::max(roi_w, ir::make_const(ir::f64, 1));
    roi_h = ir::max(roi_h, ir::make_const(ir::f64, 1));
  }
  g.bin_h = roi_h / static_cast<double>(p.out_h);
  g.bin_w = roi_w / static_cast<double>(p.out_w);
  if (p.sampling_ratio > 0) {
    g.grid_h = g.grid_w = Expr(p.sampling_ratio);
  } else {
    g.grid_h = ir::max(ir::cast(ir::index_dtype, ir::call("ceil", {g.bin_h})), Expr(0));
    g.grid_w = ir::max(ir::cast(ir::index_dtype, ir::call("ceil", {g.bin_w})), Expr(0));
  }
  return g;
}

// The largest adaptive sample grid over the rois (read from their value).
std::pair<int64_t, int64_t> largest_grid(const OpContext& ctx, const RoiAlignParams& p) {
  const NDArray& rois = ctx.value(1);
  int64_t grid_h = 1, grid_w = 1;
  double offset = p.half_pixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < rois.shape()[0]; ++r) {
    double c[4];
    for (int k = 0; k < 4; ++k) c[k] = rois.get_double(r * 4 + k) * p.spatial_scale - offset;
    double roi_w = c[2] - c[0], roi_h = c[3] - c[1];
    if (!p.half_pixel) roi_w = std::max(roi_w, 1.0), roi_h = std::max(roi_h, 1.0);
    // One more than computed, in case the kernel's rounding differs.
    grid_h = std::max(grid_h, static_cast<int64_t>(std::ceil(roi_h / p.out_h)) + 1);
    grid_w = std::max(grid_w, static_cast<int64_t>(std::ceil(roi_w / p.out_w)) + 1);
  }
  return {grid_h, grid_w};
}

// The bilinear sample of plane (b, c) at (y, x) from its four weighted corners: their sum, or
// (max mode, as the reference) the largest of them.
Expr bilinear_sample(const OpContext& ctx, const RoiAlignParams& p, const ir::Index& plane, Expr y,
                     Expr x, bool max_of_corners) {
  Expr zero = ir::make_const(ir::f64, 0);
  Expr outside =
      y < -1.0 || y > static_cast<double>(p.height) || x < -1.0 || x > static_cast<double>(p.width);
  y = ir::max(y, zero);
  x = ir::max(x, zero);
  auto corner = [&](Expr& v, int64_t size, Expr* low, Expr* high) {
    Expr l = ir::cast(ir::index_dtype, v);
    Expr at_edge = l >= Expr(size - 1);
    *low = ir::select(at_edge, Expr(size - 1), l);
    *high = ir::select(at_edge, Expr(size - 1), l + 1);
    v = ir::select(at_edge, ir::cast(ir::f64, *low), v);
  };
  Expr y_low, y_high, x_low, x_high;
  corner(y, p.height, &y_low, &y_high);
  corner(x, p.width, &x_low, &x_high);
  Expr ly = y - ir::cast(ir::f64, y_low), lx = x - ir::cast(ir::f64, x_low);
  Expr hy = 1.0 - ly, hx = 1.0 - lx;
  auto value = [&](const Expr& yy, const Expr& xx) {
    ir::Index index = plane;
    index.push_back(clamp_index(yy, p.height));
    index.push_back(clamp_index(xx, p.width));
    return ir::cast(ir::f64, ir::load(ctx.param(0), index));
  };
  Expr v1 = hy * hx * value(y_low, x_low), v2 = hy * lx * value(y_low, x_high);
  Expr v3 = ly * hx * value(y_high, x_low), v4 = ly * lx * value(y_high, x_high);
  Expr combined = max_of_corners ? ir::max(ir::max(v1, v2), ir::max(v3, v4)) : v1 + v2 + v3 + v4;
  return ir::select(outside, zero, combined);
}

OpDef roi_align() {
  OpDef def{"RoiAlign"};
  def.min_opset = 10;
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, dtype.is_float()) << dtype.name() << " inputs are not supported";
    const std::vector<int64_t>& x_shape = ctx.shape(0);
    TM_OP_CHECK(ctx, x_shape.size() == 4) << "X must have rank 4, not " << x_shape.size();
    TM_OP_CHECK(ctx, ctx.rank(1) == 2 && ctx.shape(1)[1] == 4)
        << "rois must have shape [num_rois, 4], not " << shape_str(ctx.shape(1));
    int64_t num_rois = ctx.shape(1)[0];
    TM_OP_CHECK(ctx, ctx.rank(2) == 1 && ctx.shape(2)[0] == num_rois)
        << "batch_indices must have shape [" << num_rois << "]";
    RoiAlignParams p;
    p.height = x_shape[2];
    p.width = x_shape[3];
    p.out_h = ctx.attr_int("output_height", 1);
    p.out_w = ctx.attr_int("output_width", 1);
    TM_OP_CHECK(ctx, p.out_h > 0 && p.out_w > 0) << "the output size must be positive";
    p.sampling_ratio = ctx.attr_int("sampling_ratio", 0);
    TM_OP_CHECK(ctx, p.sampling_ratio >= 0) << "sampling_ratio must be 0 or more";
    p.spatial_scale = ctx.attr_float("spatial_scale", 1.0);
    std::string mode = ctx.attr_string("mode", "avg");
    TM_OP_CHECK(ctx, mode == "avg" || mode == "max")
        << "mode=\"" << mode << "\" is not supported (supported: avg, max)";
    p.max_mode = mode == "max";
    std::string transform =
        ctx.attr_string("coordinate_transformation_mode",
                        ctx.opset() != 0 && ctx.opset() < 16 ? "output_half_pixel" : "half_pixel");
    TM_OP_CHECK(ctx, transform == "half_pixel" || transform == "output_half_pixel")
        << "coordinate_transformation_mode=\"" << transform
        << "\" is not supported (supported: half_pixel, output_half_pixel)";
    p.half_pixel = transform == "half_pixel";
    std::vector<int64_t> out_shape = {num_rois, x_shape[1], p.out_h, p.out_w};
    if (shape_numel(out_shape) == 0 || p.height == 0 || p.width == 0) {
      return {ir::compute("roi_align", out_shape,
                          [&](const ir::Index&) { return ir::make_const(dtype, 0); })};
    }
    if (p.sampling_ratio > 0) {
      p.grid_h = p.grid_w = p.sampling_ratio;
    } else {
      std::tie(p.grid_h, p.grid_w) = largest_grid(ctx, p);
    }
    return {ir::compute("roi_align", out_shape, [&](const ir::Index& i) {
      RoiGeometry g = roi_geometry(ctx, p, i[0]);
      Expr batch =
          clamp_index(ir::cast(ir::index_dtype, ir::load(ctx.param(2), {i[0]})), x_shape[0]);
      ir::Index plane = {batch, i[1]};
      Expr ph = ir::cast(ir::f64, i[2]), pw = ir::cast(ir::f64, i[3]);
      Expr grid_h = ir::cast(ir::f64, g.grid_h), grid_w = ir::cast(ir::f64, g.grid_w);
      auto sample = [&](const ir::Index& s) {
        Expr y = g.start_h + ph * g.bin_h + (ir::cast(ir::f64, s[0]) + 0.5) * g.bin_h / grid_h;
        Expr x = g.start_w + pw * g.bin_w + (ir::cast(ir::f64, s[1]) + 0.5) * g.bin_w / grid_w;
        return bilinear_sample(ctx, p, plane, y, x, p.max_mode);
      };
      auto in_grid = [&](const ir::Index& s) { return s[0] < g.grid_h && s[1] < g.grid_w; };
      Expr samples = g.grid_h * g.grid_w;
      Expr result;
      if (p.max_mode) {
        Expr best = ir::reduce(ReduceOp::max, {p.grid_h, p.grid_w}, [&](const ir::Index& s) {
          return ir::select(in_grid(s), sample(s),
                            ir::make_const(ir::f64, -std::numeric_limits<double>::infinity()));
        });
        result = ir::select(samples > Expr(0), best, ir::make_const(ir::f64, 0));
      } else {
        Expr sum = ir::reduce(ReduceOp::sum, {p.grid_h, p.grid_w}, [&](const ir::Index& s) {
          return ir::select(in_grid(s), sample(s), ir::make_const(ir::f64, 0));
        });
        result = sum / ir::cast(ir::f64, ir::max(samples, Expr(1)));
      }
      return ir::cast(dtype, result);
    })};
  };
  return def;
}

}  // namespace

void register_misc_detection_ops(std::vector<OpDef>& defs) {
  defs.push_back(non_max_suppression());
  defs.push_back(roi_align());
}

}  // namespace taskmap::graph::ops::misc
