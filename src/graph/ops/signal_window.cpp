// Window functions (Hann, Hamming, Blackman) and MelWeightMatrix.
//
// A window of `size` points is a0 - a1 cos(w n) + a2 cos(2 w n) with w = 2 pi / size (periodic)
// or 2 pi / (size - 1) (symmetric), computed in f32 as the ONNX function bodies do. Its length is
// the value of the size input. MelWeightMatrix depends only on its scalar inputs' values and runs
// on the host.
#include <cmath>
#include <numbers>

#include "graph/ops/signal_common.h"
#include "taskmap/frontend/onnx.h"

namespace taskmap::graph::ops::signal {
namespace {

using ir::Expr;

ir::DType output_dtype(const OpContext& ctx) {
  return onnx::dtype_from_onnx(static_cast<int>(ctx.attr_int("output_datatype", 1)), ctx.where());
}

struct CosineSum {
  double a0, a1, a2;
};

OpDef window(const std::string& type, CosineSum c) {
  OpDef def{type};
  def.min_opset = 17;
  def.lower = [c](const OpContext& ctx) -> Outputs {
    ir::DType dtype = output_dtype(ctx);
    TM_OP_CHECK(ctx, ctx.rank(0) == 0 || ctx.shape(0) == std::vector<int64_t>{1})
        << "size must be a scalar";
    int64_t size = static_cast<int64_t>(ctx.value_scalar(0));
    TM_OP_CHECK(ctx, size >= 0) << "size must not be negative, not " << size;
    bool periodic = ctx.attr_int("periodic", 1) != 0;
    float step =
        static_cast<float>(2 * std::numbers::pi) / static_cast<float>(periodic ? size : size - 1);
    return {ir::compute(ctx.type(), {size}, [&](const ir::Index& i) {
      Expr angle = ir::cast(ir::f32, i[0]) * ir::make_const(ir::f32, step);
      Expr v = c.a0 - c.a1 * ir::call("cos", {angle});
      if (c.a2 != 0) v = v + c.a2 * ir::call("cos", {angle * 2.0f});
      return ir::cast(dtype, v);
    })};
  };
  return def;
}

// The filter bank as the ONNX reference builds it: num_mel_bins + 2 points evenly spaced on the
// mel scale, mapped to DFT bins, with a triangle between each three consecutive points.
NDArray mel_weight_matrix(const OpContext& ctx) {
  int64_t mel_bins = static_cast<int64_t>(ctx.value_scalar(0));
  int64_t dft_length = static_cast<int64_t>(ctx.value_scalar(1));
  double sample_rate = ctx.value_scalar(2);
  double lower_hz = ctx.value_scalar(3), upper_hz = ctx.value_scalar(4);
  TM_OP_CHECK(ctx, mel_bins >= 0 && dft_length >= 0 && sample_rate > 0)
      << "num_mel_bins and dft_length must not be negative, sample_rate must be positive";
  int64_t spectrum_bins = dft_length / 2 + 1;
  auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  double low = mel(lower_hz), step = (mel(upper_hz) - low) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> points(mel_bins + 2);
  for (int64_t k = 0; k < mel_bins + 2; ++k) {
    double hz = 700 * (std::pow(10.0, (static_cast<double>(k) * step + low) / 2595) - 1);
    points[k] =
        static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / sample_rate));
  }
  NDArray out(output_dtype(ctx), {spectrum_bins, mel_bins});
  auto set = [&](int64_t row, int64_t col, double v) {
    if (row >= 0 && row < spectrum_bins) out.set_double(row * mel_bins + col, v);
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    int64_t left = points[i], center = points[i + 1], right = points[i + 2];
    if (center == left) {
      set(center, i, 1);
    } else {
      for (int64_t j = left; j <= center; ++j)
        set(j, i, static_cast<double>(j - left) / static_cast<double>(center - left));
    }
    for (int64_t j = center; j < right; ++j)
      set(j, i, static_cast<double>(right - j) / static_cast<double>(right - center));
  }
  return out;
}

OpDef mel_weight_matrix_op() {
  OpDef def{"MelWeightMatrix"};
  def.min_opset = 17;
  def.infer = [](const OpContext& ctx) -> std::vector<OutputType> {
    NDArray out = mel_weight_matrix(ctx);  // reads every input, so all must be known
    return {{out.dtype(), out.shape()}};
  };
  def.evaluate = [](const OpContext& ctx) -> std::vector<NDArray> {
    return {mel_weight_matrix(ctx)};
  };
  return def;
}

}  // namespace

void register_signal_window_ops(std::vector<OpDef>& defs) {
  defs.push_back(window("HannWindow", {0.5, 0.5, 0}));
  defs.push_back(window("HammingWindow", {25.0 / 46, 21.0 / 46, 0}));
  defs.push_back(window("BlackmanWindow", {0.42, 0.5, 0.08}));
  defs.push_back(mel_weight_matrix_op());
}

}  // namespace taskmap::graph::ops::signal
