// GridSample: X sampled at the positions a grid gives, normalized to [-1, 1] per spatial
// dimension (grid's last dimension lists them innermost first: x, then y, ...), with nearest,
// linear or cubic interpolation and zeros / border / reflection padding. Follows the ONNX
// reference: a position outside the padding range is first clamped (border) or reflected
// (reflection), then every tap is fetched with the padding rule (zeros outside for zeros).
// Linear and cubic interpolation are a sum over the taps of each dimension (2 or 4 per dimension).
#include <cmath>

#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops::misc {
namespace {

using ir::Expr;
using ir::ReduceOp;

enum class Interpolation { nearest, linear, cubic };
enum class Padding { zeros, border, reflection };

struct Sampler {
  Interpolation mode;
  Padding padding;
  bool align_corners;
  ir::DType dtype;  // of the coordinate arithmetic
};

// `x` reflected at lo and hi until it lies between them.
Expr reflect(const Expr& x, double lo, double hi, ir::DType dtype) {
  double range = hi - lo;
  if (range <= 0) return ir::make_const(dtype, lo);
  auto fold = [&](const Expr& distance, double near, double far) {
    Expr turns = ir::call("floor", {distance / range});
    Expr rest = distance - turns * range;
    Expr even =
        ir::eq(ir::call("fmod", {turns, ir::make_const(dtype, 2)}), ir::make_const(dtype, 0));
    double toward = far > near ? 1 : -1;
    return ir::select(even, near + toward * rest, far - toward * rest);
  };
  return ir::select(x < lo, fold(lo - x, lo, hi), ir::select(x > hi, fold(x - hi, hi, lo), x));
}

// The padding range of a dimension of `size`: the outer edges of the border pixels, or their
// centers with align_corners.
std::pair<double, double> padding_range(const Sampler& s, int64_t size) {
  if (s.align_corners) return {0.0, static_cast<double>(size - 1)};
  return {-0.5, static_cast<double>(size) - 0.5};
}

// The position in pixels (before taps) of normalized coordinate `n` in a dimension of `size`.
Expr source_position(const Sampler& s, const Expr& n, int64_t size) {
  double d = static_cast<double>(size);
  Expr x = s.align_corners ? (n + 1.0) / 2.0 * (d - 1) : ((n + 1.0) * d - 1.0) / 2.0;
  if (s.mode == Interpolation::nearest) x = ir::call("round", {x});
  auto [lo, hi] = padding_range(s, size);
  if (s.padding == Padding::border) {
    x = ir::select(x < lo || x > hi,
                   ir::min(ir::max(x, ir::make_const(s.dtype, 0)), ir::make_const(s.dtype, d - 1)),
                   x);
  } else if (s.padding == Padding::reflection) {
    x = reflect(x, lo, hi, s.dtype);
  }
  return x;
}

// Tap `tap` (an index) of a dimension of `size` under the padding rule: the index to read and
// whether it is inside (always, except for zeros padding).
std::pair<Expr, Expr> padded_tap(const Sampler& s, const Expr& tap, int64_t size) {
  switch (s.padding) {
    case Padding::zeros:
      return {clamp_index(tap, size), tap >= Expr(0) && tap < Expr(size)};
    case Padding::border:
      return {clamp_index(tap, size), ir::bool_imm(true)};
    case Padding::reflection: {
      auto [lo, hi] = padding_range(s, size);
      Expr reflected = reflect(ir::cast(s.dtype, tap), lo, hi, s.dtype);
      return {clamp_index(ir::cast(ir::index_dtype, reflected), size), ir::bool_imm(true)};
    }
  }
  return {};
}

// The weight of a tap at `distance` (>= 0) from the position.
Expr tap_weight(const Sampler& s, const Expr& distance) {
  if (s.mode == Interpolation::linear) return 1.0 - distance;
  const double a = -0.75;  // Keys' cubic convolution
  Expr d = distance;
  Expr near = ((a + 2) * d - (a + 3)) * d * d + 1.0;
  Expr far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return ir::select(d <= 1.0, near, far);
}

OpDef grid_sample() {
  OpDef def{"GridSample"};
  def.min_opset = 16;
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, dtype.is_float() && ctx.dtype(1).is_float())
        << dtype.name() << " / " << ctx.dtype(1).name() << " inputs are not supported";
    const std::vector<int64_t>& x_shape = ctx.shape(0);
    const std::vector<int64_t>& grid_shape = ctx.shape(1);
    int64_t dims = ctx.rank(0) - 2;
    TM_OP_CHECK(ctx, dims >= 1) << "X must have rank 3 or more";
    TM_OP_CHECK(ctx,
                ctx.rank(1) == dims + 2 && grid_shape[0] == x_shape[0] && grid_shape.back() == dims)
        << "grid must have shape [" << x_shape[0] << ", ..., " << dims << "] with rank " << dims + 2
        << ", not " << shape_str(grid_shape);
    Sampler s;
    std::string mode =
        ctx.attr_string("mode", ctx.opset() != 0 && ctx.opset() < 20 ? "bilinear" : "linear");
    if (mode == "bilinear" || mode == "linear") {
      s.mode = Interpolation::linear;
    } else if (mode == "bicubic" || mode == "cubic") {
      s.mode = Interpolation::cubic;
    } else {
      TM_OP_CHECK(ctx, mode == "nearest")
          << "mode=\"" << mode << "\" is not supported (supported: linear, cubic, nearest)";
      s.mode = Interpolation::nearest;
    }
    std::string padding = ctx.attr_string("padding_mode", "zeros");
    if (padding == "zeros") {
      s.padding = Padding::zeros;
    } else if (padding == "border") {
      s.padding = Padding::border;
    } else {
      TM_OP_CHECK(ctx, padding == "reflection")
          << "padding_mode=\"" << padding << "\" is not supported (supported: zeros, border, "
          << "reflection)";
      s.padding = Padding::reflection;
    }
    s.align_corners = ctx.attr_int("align_corners", 0) != 0;
    s.dtype = dtype == ir::f64 ? ir::f64 : ir::f32;

    std::vector<int64_t> out_shape = {x_shape[0], x_shape[1]};
    out_shape.insert(out_shape.end(), grid_shape.begin() + 1, grid_shape.end() - 1);
    bool empty_input = shape_numel(x_shape) == 0;
    if (shape_numel(out_shape) == 0 || empty_input) {
      return {ir::compute("grid_sample", out_shape,
                          [&](const ir::Index&) { return ir::make_const(dtype, 0); })};
    }
    return {ir::compute("grid_sample", out_shape, [&](const ir::Index& i) {
      // Position in dimension d (of X's spatial dims), from grid component dims - 1 - d.
      std::vector<Expr> position;
      for (int64_t d = 0; d < dims; ++d) {
        ir::Index g = {i[0]};
        g.insert(g.end(), i.begin() + 2, i.end());
        g.push_back(Expr(dims - 1 - d));
        Expr n = ir::cast(s.dtype, ir::load(ctx.param(1), g));
        position.push_back(source_position(s, n, x_shape[2 + d]));
      }
      auto read = [&](const std::vector<Expr>& taps) {
        ir::Index index = {i[0], i[1]};
        Expr inside = ir::bool_imm(true);
        for (int64_t d = 0; d < dims; ++d) {
          auto [at, ok] = padded_tap(s, taps[d], x_shape[2 + d]);
          index.push_back(at);
          inside = inside && ok;
        }
        Expr v = ir::cast(s.dtype, ir::load(ctx.param(0), index));
        return s.padding == Padding::zeros ? ir::select(inside, v, ir::make_const(s.dtype, 0)) : v;
      };
      if (s.mode == Interpolation::nearest) {
        std::vector<Expr> taps;
        for (const Expr& x : position) taps.push_back(ir::cast(ir::index_dtype, x));
        return ir::cast(dtype, read(taps));
      }
      // Taps floor(x) + k - first for k in [0, count) in every dimension.
      int64_t count = s.mode == Interpolation::linear ? 2 : 4;
      int64_t first = s.mode == Interpolation::linear ? 0 : 1;
      Expr sum =
          ir::reduce(ReduceOp::sum, std::vector<int64_t>(dims, count), [&](const ir::Index& k) {
            std::vector<Expr> taps;
            Expr weight = ir::make_const(s.dtype, 1);
            for (int64_t d = 0; d < dims; ++d) {
              Expr base = ir::call("floor", {position[d]});
              Expr tap = base + ir::cast(s.dtype, k[d] - first);
              weight = weight * tap_weight(s, ir::max(position[d] - tap, tap - position[d]));
              taps.push_back(ir::cast(ir::index_dtype, tap));
            }
            return weight * read(taps);
          });
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

}  // namespace

void register_misc_grid_sample_ops(std::vector<OpDef>& defs) {
  defs.push_back(grid_sample());
}

}  // namespace taskmap::graph::ops::misc
