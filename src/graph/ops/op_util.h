#pragma once
// Helpers shared by the operator definitions: axes, broadcasting, elementwise computes.
#include <functional>
#include <string>
#include <vector>

#include "taskmap/graph/op_registry.h"

namespace taskmap::graph::ops {

// `axis` in [-rank, rank) made non-negative; anything else is a UserError naming the node.
int64_t normalize_axis(const OpContext& ctx, int64_t axis, int64_t rank);
std::vector<int64_t> normalize_axes(const OpContext& ctx, std::vector<int64_t> axes, int64_t rank);

// The multidirectional (NumPy) broadcast of `shapes`; incompatible shapes are a UserError.
std::vector<int64_t> broadcast_shapes(const OpContext& ctx,
                                      const std::vector<std::vector<int64_t>>& shapes);

// `param` (of shape `in_shape`) read at output index `out` of a broadcast: dims align on the
// right and size-1 dims read index 0.
ir::Expr load_broadcast(const ir::Var& param, const std::vector<int64_t>& in_shape,
                        const ir::Index& out);

// The compute out[i] = fn(in_a[i], in_b[i], ...) over the broadcast of the given inputs.
ir::Expr elementwise(const OpContext& ctx, const std::string& name, const std::vector<int>& inputs,
                     const std::function<ir::Expr(const std::vector<ir::Expr>&)>& fn);

// A constant of `dtype` (floats rounded to it, integers wrapped).
ir::Expr constant(ir::DType dtype, double value);

// `e` (an index) limited to [0, extent - 1]. Kernel loads are checked against their bounds even
// inside a select branch, so indices valid only under a condition, or read from data, are
// clamped: every load stays inside its tensor.
ir::Expr clamp_index(const ir::Expr& e, int64_t extent);

// Input `input` must have a float dtype; anything else is "not supported".
void check_float(const OpContext& ctx, int input);

// Registration of each family of operators (one file each under graph/ops/).
void register_elementwise_ops(std::vector<OpDef>& defs);
void register_tensor_ops(std::vector<OpDef>& defs);
void register_reduce_ops(std::vector<OpDef>& defs);
void register_nn_ops(std::vector<OpDef>& defs);
void register_loss_ops(std::vector<OpDef>& defs);
void register_quantize_ops(std::vector<OpDef>& defs);
void register_signal_ops(std::vector<OpDef>& defs);
void register_misc_ops(std::vector<OpDef>& defs);

}  // namespace taskmap::graph::ops
