// The tensor (data-movement) operator family; its members live in the tensor_*_ops.cpp files.
#include "graph/ops/tensor_util.h"

namespace taskmap::graph::ops {

void register_tensor_ops(std::vector<OpDef>& defs) {
  tensor::register_tensor_shape_ops(defs);
  tensor::register_tensor_layout_ops(defs);
  tensor::register_tensor_index_ops(defs);
  tensor::register_tensor_resize_ops(defs);
}

}  // namespace taskmap::graph::ops
