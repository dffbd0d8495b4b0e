#pragma once
// Helpers shared by the neural-network operators (convolution, pooling, matmul, recurrences).
#include <string>
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {

// Registration of the sub-families, one file each.
void register_conv_ops(std::vector<OpDef>& defs);
void register_pool_ops(std::vector<OpDef>& defs);
void register_matmul_ops(std::vector<OpDef>& defs);
void register_einsum_op(std::vector<OpDef>& defs);
void register_rnn_ops(std::vector<OpDef>& defs);
void register_winograd_ops(std::vector<OpDef>& defs);

// One spatial dimension of a sliding window: output position o reads input positions
// o * stride - pad_begin + k * dilation for k in [0, kernel).
struct Window {
  int64_t in = 0, kernel = 1, stride = 1, dilation = 1, pad_begin = 0, pad_end = 0, out = 0;
  int64_t extent() const { return (kernel - 1) * dilation + 1; }
  // Some window position falls outside [0, in).
  bool needs_bounds_check() const;
  // The input position read by output position `o` at window offset `k`.
  ir::Expr position(const ir::Expr& o, const ir::Expr& k) const;
  // The same clamped into [0, in), for a read that is always in range; where the window can
  // leave the input, the condition that it does not is appended to `inside`.
  ir::Expr read_position(const ir::Expr& o, const ir::Expr& k, std::vector<ir::Expr>* inside) const;
};

// The windows of a convolution or pooling over `in_spatial`, from the attributes strides,
// dilations, pads and auto_pad. `ceil_mode` rounds the output size up (pooling); a window that
// would start in the end padding is dropped.
std::vector<Window> sliding_windows(const OpContext& ctx, const std::vector<int64_t>& in_spatial,
                                    const std::vector<int64_t>& kernel, bool ceil_mode = false);

// The conjunction of `conditions`; `true` when there are none.
ir::Expr all_of(const std::vector<ir::Expr>& conditions);

// A sum reduction accumulated in `acc`; 0 when some extent is 0 (an empty sum).
ir::Expr sum_reduce(std::vector<int64_t> extents,
                    const std::function<ir::Expr(const ir::Index&)>& fn, ir::DType acc);

// The dtype products and sums are carried out in: f32 for f16 / bf16, else `dtype`.
ir::DType accumulate_dtype(ir::DType dtype);

// The lowest value of `dtype` (-inf for floats).
ir::Expr lowest_value(ir::DType dtype);

// A zero point or scale given per tensor (one element) or per channel (a 1-D tensor of
// `channels` values), read for channel `index`.
ir::Expr per_channel(const OpContext& ctx, int input, int64_t channels, const ir::Expr& index);

// round(value * scale) + zero (half to even, in f32), saturated to the 8-bit `dtype`. `zero` may
// be undefined (no zero point).
ir::Expr requantize(const ir::Expr& value, const ir::Expr& scale, const ir::Expr& zero,
                    ir::DType dtype);

}  // namespace taskmap::graph::ops
