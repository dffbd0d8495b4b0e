// Neural-network operators: the registration of the family and the helpers its files share.
#include "graph/ops/nn_util.h"

#include <limits>
#include <numeric>

namespace taskmap::graph::ops {

bool Window::needs_bounds_check() const {
  if (out == 0) return false;
  return pad_begin > 0 || (out - 1) * stride - pad_begin + (kernel - 1) * dilation >= in;
}

ir::Expr Window::position(const ir::Expr& o, const ir::Expr& k) const {
  ir::Expr p = stride == 1 ? o : o * stride;
  if (pad_begin != 0) p = p - pad_begin;
  return p + (dilation == 1 ? k : k * dilation);
}

ir::Expr Window::read_position(const ir::Expr& o, const ir::Expr& k,
                               std::vector<ir::Expr>* inside) const {
  ir::Expr p = position(o, k);
  if (!needs_bounds_check()) return p;
  inside->push_back(p >= 0 && p < in);
  return clamp_index(p, in);
}

std::vector<Window> sliding_windows(const OpContext& ctx, const std::vector<int64_t>& in_spatial,
                                    const std::vector<int64_t>& kernel, bool ceil_mode) {
  const size_t rank = in_spatial.size();
  TM_OP_CHECK(ctx, kernel.size() == rank)
      << "kernel_shape has " << kernel.size() << " dims, the input has " << rank << " spatial dims";
  std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> dilations = ctx.attr_ints("dilations", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * rank, 0));
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  TM_OP_CHECK(ctx, strides.size() == rank && dilations.size() == rank && pads.size() == 2 * rank)
      << "strides, dilations and pads must have " << rank << ", " << rank << " and " << 2 * rank
      << " values";
  std::vector<Window> windows(rank);
  for (size_t d = 0; d < rank; ++d) {
    Window& w = windows[d];
    w.in = in_spatial[d];
    w.kernel = kernel[d];
    w.stride = strides[d];
    w.dilation = dilations[d];
    TM_OP_CHECK(ctx, w.kernel > 0 && w.stride > 0 && w.dilation > 0)
        << "kernel sizes, strides and dilations must be positive";
    auto div_up = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    if (auto_pad == "NOTSET") {
      w.pad_begin = pads[d];
      w.pad_end = pads[d + rank];
      TM_OP_CHECK(ctx, w.pad_begin >= 0 && w.pad_end >= 0) << "pads must not be negative";
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t out = div_up(w.in, w.stride);
      int64_t total = std::max<int64_t>(0, (out - 1) * w.stride + w.extent() - w.in);
      w.pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end = total - w.pad_begin;
    } else {
      TM_OP_CHECK(ctx, auto_pad == "VALID") << "auto_pad '" << auto_pad << "' is not supported";
    }
    int64_t span = w.in + w.pad_begin + w.pad_end - w.extent();
    TM_OP_CHECK(ctx, span >= 0) << "the window (extent " << w.extent()
                                << ") is larger than the padded input (" << w.in << " + "
                                << w.pad_begin + w.pad_end << ") in spatial dim " << d;
    w.out = (ceil_mode ? div_up(span, w.stride) : span / w.stride) + 1;
    if (ceil_mode && (w.out - 1) * w.stride >= w.in + w.pad_begin) --w.out;
  }
  return windows;
}

ir::Expr all_of(const std::vector<ir::Expr>& conditions) {
  if (conditions.empty()) return ir::bool_imm(true);
  ir::Expr all = conditions[0];
  for (size_t i = 1; i < conditions.size(); ++i) all = all && conditions[i];
  return all;
}

ir::Expr sum_reduce(std::vector<int64_t> extents,
                    const std::function<ir::Expr(const ir::Index&)>& fn, ir::DType acc) {
  if (std::find(extents.begin(), extents.end(), 0) != extents.end()) return ir::make_const(acc, 0);
  return ir::reduce(ir::ReduceOp::sum, std::move(extents), fn, acc);
}

ir::DType accumulate_dtype(ir::DType dtype) {
  return dtype == ir::f16 || dtype == ir::bf16 ? ir::f32 : dtype;
}

ir::Expr lowest_value(ir::DType dtype) {
  if (dtype.is_float()) return ir::float_imm(-std::numeric_limits<double>::infinity(), dtype);
  if (dtype.is_bool()) return ir::bool_imm(false);
  if (!dtype.is_signed()) return ir::int_imm(0, dtype);
  return ir::int_imm(dtype.bits() == 64 ? std::numeric_limits<int64_t>::min()
                                        : -(int64_t{1} << (dtype.bits() - 1)),
                     dtype);
}

ir::Expr per_channel(const OpContext& ctx, int input, int64_t channels, const ir::Expr& index) {
  const auto& shape = ctx.shape(input);
  int64_t numel = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  if (numel == 1) return ir::load(ctx.param(input), ir::Index(shape.size(), ir::Expr(0)));
  TM_OP_CHECK(ctx, shape.size() == 1 && shape[0] == channels)
      << "input " << input << " must hold one value or one per channel (" << channels << ")";
  return ir::load(ctx.param(input), {index});
}

ir::Expr requantize(const ir::Expr& value, const ir::Expr& scale, const ir::Expr& zero,
                    ir::DType dtype) {
  TM_ASSERT(dtype == ir::u8 || dtype == ir::i8) << "requantize to " << dtype.name();
  ir::Expr y = ir::call("round", {ir::cast(ir::f32, value) * scale});
  if (zero.defined()) y = y + ir::cast(ir::f32, zero);
  double lo = dtype == ir::u8 ? 0 : -128, hi = dtype == ir::u8 ? 255 : 127;
  return ir::cast(dtype, ir::min(ir::max(y, ir::float_imm(lo)), ir::float_imm(hi)));
}

void register_nn_ops(std::vector<OpDef>& defs) {
  register_conv_ops(defs);
  register_pool_ops(defs);
  register_matmul_ops(defs);
  register_einsum_op(defs);
  register_rnn_ops(defs);
  register_winograd_ops(defs);
}

}  // namespace taskmap::graph::ops
