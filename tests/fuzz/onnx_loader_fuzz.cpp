// libFuzzer target for the ONNX loader: any byte string either parses into a valid graph or is
// rejected with a UserError. Anything else (a crash, a sanitizer report, another exception type)
// is a bug. Also feeds the same bytes to the TensorProto and .npy readers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    taskmap::graph::Graph g = taskmap::onnx::parse_model(bytes, "fuzz.onnx", "/nonexistent");
    (void)taskmap::graph::to_string(g);
  } catch (const taskmap::UserError&) {
  }
  try {
    (void)taskmap::onnx::parse_tensor(bytes, "fuzz.pb");
  } catch (const taskmap::UserError&) {
  }
  try {
    (void)taskmap::parse_npy(bytes, "fuzz.npy");
  } catch (const taskmap::UserError&) {
  }
  return 0;
}
