#pragma once
// Helpers of the tensor (data-movement) operator family, and its sub-registrations.
#include <string>
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops::tensor {

// Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, ConstantOfShape, EyeLike, Range, NonZero.
void register_tensor_shape_ops(std::vector<OpDef>& defs);
// Transpose, Concat, Split, Slice, Pad, Tile, Expand, DepthToSpace, SpaceToDepth, Trilu.
void register_tensor_layout_ops(std::vector<OpDef>& defs);
// Gather, GatherElements, GatherND, Scatter, ScatterElements, ScatterND, OneHot.
void register_tensor_index_ops(std::vector<OpDef>& defs);
// Resize, Upsample.
void register_tensor_resize_ops(std::vector<OpDef>& defs);

// Element `index` of integer input `input` as an index into a dimension of size `extent`:
// negative values count from the end; out-of-range values are clamped (ONNX makes them an
// error, which a kernel cannot raise).
ir::Expr load_index(const OpContext& ctx, int input, const ir::Index& index, int64_t extent);
// The same for an already loaded value.
ir::Expr wrap_index(const ir::Expr& value, int64_t extent);

// Row-major position of `index` in `shape`, and back (the IR's helpers).
using ir::flat_index;
using ir::unravel_index;

// Input 0's elements in row-major order laid out as `shape` (same element count).
ir::Expr reshape_copy(const OpContext& ctx, const std::string& name,
                      const std::vector<int64_t>& shape);

// A list of ints given as input `input` from opset `input_since` on, else as attribute `attr`.
// `present` is set to whether either was given; absent gives an empty list.
std::vector<int64_t> ints_input_or_attr(const OpContext& ctx, int input, int input_since,
                                        const std::string& attr, bool* present = nullptr);

// A tensor of i64 constants of shape [values.size()].
ir::Expr constant_vector(const std::string& name, const std::vector<int64_t>& values);

}  // namespace taskmap::graph::ops::tensor
