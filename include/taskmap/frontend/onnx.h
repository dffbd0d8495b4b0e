#pragma once
// The ONNX frontend: model files to Graphs and back, TensorProto files to NDArrays and back.
//
// Reading accepts IR versions 3 and newer and opsets 7 to 21 of the default domain. Initializers,
// Constant nodes and external data files (relative to the model's folder) become constant
// tensors. Opset imports of other domains are ignored unless a node uses them. Graph attributes
// (If branches) are imported as sub-graphs that may read tensors of the enclosing graph.
//
// Every problem with the input (no such file, truncated or malformed protobuf, an unknown dtype,
// a missing initializer, a node reading an undefined tensor) is a UserError naming the file and,
// where there is one, the node and op type.
#include <string>
#include <string_view>

#include "taskmap/graph/graph.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::onnx {

graph::Graph load_model(const std::string& path);
// `source` names the model in messages; external data is looked up under `base_dir`.
graph::Graph parse_model(std::string_view bytes, const std::string& source,
                         const std::string& base_dir = ".");

// Writes `graph` as an ONNX model (IR 8, default-domain opset `opset`), constants as
// initializers. The file is written atomically; an unwritable path is a UserError.
void save_model(const graph::Graph& graph, const std::string& path, int opset = 17);

// One TensorProto per file, as the ONNX test data sets store them.
NDArray load_tensor(const std::string& path);
NDArray parse_tensor(std::string_view bytes, const std::string& source);
void save_tensor(const NDArray& value, const std::string& path, const std::string& name = "");

// The taskmap dtype of an ONNX TensorProto data type, or a UserError naming it and `where`.
ir::DType dtype_from_onnx(int onnx_type, const std::string& where);
int dtype_to_onnx(ir::DType dtype);

}  // namespace taskmap::onnx
