#pragma once
// Helpers shared by the reduction, softmax, scan and normalization operators, and the
// registration functions of the files of that family.
#include <functional>
#include <optional>
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {

// A reduction of some dims of an input shape, the reduced dims kept as size-1 dims or dropped.
class Reduction {
 public:
  // `axes` are non-negative and may repeat.
  Reduction(std::vector<int64_t> in_shape, const std::vector<int64_t>& axes, bool keepdims);

  const std::vector<int64_t>& in_shape() const { return in_shape_; }
  std::vector<int64_t> out_shape() const;
  // The extents of the reduced dims, in dim order.
  std::vector<int64_t> extents() const;
  // Some reduced dim has extent 0: every output element reduces the empty set.
  bool is_empty() const;
  // The input index of output index `out` and reduce index `r` (one entry per reduced dim).
  ir::Index input_index(const ir::Index& out, const ir::Index& r) const;

 private:
  std::vector<int64_t> in_shape_;
  std::vector<bool> reduced_;
  bool keepdims_;
};

// `op` over the reduced dims of fn(input index), for output index `out`, accumulated in
// `accumulate` (ir::reduce's default when absent). With no reduced dims it is fn's value itself
// (the input index for argmax / argmin: 0); over the empty set it is the identity of `op` (the
// lowest / highest value for max / min, NaN for a float mean). argmax / argmin over the empty set
// is a UserError.
ir::Expr reduce_dims(const OpContext& ctx, ir::ReduceOp op, const Reduction& reduction,
                     const ir::Index& out, const std::function<ir::Expr(const ir::Index&)>& fn,
                     std::optional<ir::DType> accumulate = std::nullopt);

// The dtype float math on `dtype` runs in: f32 for f16 / bf16, f64 for integers, else itself.
ir::DType math_dtype(ir::DType dtype);

// The sub-families registered by register_reduce_ops.
void register_softmax_ops(std::vector<OpDef>& defs);  // Softmax, LogSoftmax, Hardmax
void register_scan_ops(std::vector<OpDef>& defs);     // CumSum, TopK
void register_norm_ops(std::vector<OpDef>& defs);     // *Normalization, LRN

}  // namespace taskmap::graph::ops
