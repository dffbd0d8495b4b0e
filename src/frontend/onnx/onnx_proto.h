#pragma once
// The generated ONNX protobuf classes (Debian's libonnx-dev), and conversions shared by the
// importer and exporter.
#include <onnx/onnx_pb.h>

#include <string>

#include "taskmap/runtime/ndarray.h"

namespace taskmap::onnx {

// A TensorProto's data (raw, typed fields, or external data under `base_dir`) as an NDArray.
NDArray tensor_from_proto(const ::onnx::TensorProto& proto, const std::string& where,
                          const std::string& base_dir);
void tensor_to_proto(const NDArray& value, ::onnx::TensorProto* proto);

}  // namespace taskmap::onnx
