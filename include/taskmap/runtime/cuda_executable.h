#pragma once
// A compiled model for one input signature on a CUDA device: the same plan as the CPU's
// Executable (kernel calls over argument slots, constants, one arena placed by liveness), its
// kernels cubins. Part of the runtime library: running it needs the CUDA driver, no compiler.
//
// The first run sets the device up: the cubins loaded, the constants copied to device memory
// once, one device arena for the intermediate tensors, device buffers for the inputs and
// outputs, one stream. Each run copies the inputs in, launches the kernels on the stream and
// copies the outputs out. The first run launches kernel by kernel (a kernel that cannot launch
// is named); the second run's launches are captured as a CUDA graph, which later runs replay as
// one launch: the device pointers never change, so the graph stays valid.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "taskmap/runtime/executable.h"

namespace taskmap::runtime {

struct CudaKernelCall {
  std::string name;   // kernel name, for messages
  std::string label;  // what it computes, for profiles
  std::string cubin_path;
  std::string symbol;  // the kernel's symbol in the cubin
  std::vector<std::string> assertion_messages;
  unsigned grid = 1, block = 1, shared_bytes = 0;
  std::vector<Slot> args;  // one per kernel parameter
};

class CudaExecutable {
 public:
  CudaExecutable();
  ~CudaExecutable();

  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<NDArray> constants;  // host copies; on the device from the first run on
  std::vector<CudaKernelCall> calls;
  std::vector<Slot> output_sources;  // as Executable::output_sources
  int64_t arena_bytes = 0;
  int device = 0;         // CUDA device ordinal
  bool use_graph = true;  // replay the captured launches as a CUDA graph

  // As Executable::run. A machine without a CUDA device, or a failing launch, is a UserError
  // that says so. With `call_ms`, each launch is timed alone (the stream drained around it) and
  // no graph is used.
  // With `device_ms`, it is set to the time the GPU took from the first launch to the end of the
  // last (CUDA events on the stream; the copies in and out are not counted).
  std::vector<NDArray> run(const std::vector<NDArray>& inputs,
                           std::vector<double>* call_ms = nullptr,
                           double* device_ms = nullptr) const;

 private:
  struct Device;  // what the first run sets up
  mutable std::mutex mutex_;
  mutable std::unique_ptr<Device> device_;
};

}  // namespace taskmap::runtime
