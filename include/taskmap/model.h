#pragma once
// A model ready to run: a graph and the plans compiled for the input shapes it has seen.
//
//   Model model = Model::load("resnet50.onnx");
//   std::vector<NDArray> outputs = model.run({image});   // compiles on first use, then cached
//
// Compiling = specialize the graph for the input shapes (shape inference, constant folding),
// lower every operator to a kernel (built in parallel through the kernel cache), and plan the
// memory (one arena, buffers reuse memory by liveness). Inputs whose data decide shapes (a
// Reshape's `shape` fed by a graph input) are specialized on their data too: a run with other
// data compiles again (its kernels mostly come from the cache).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "taskmap/compile.h"
#include "taskmap/graph/graph.h"
#include "taskmap/graph/specialize.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap {

struct ModelOptions {
  CompileOptions compile;
  std::map<std::string, int64_t> dims;  // sizes of symbolic input dims, for default_bindings()
  int threads = 0;                      // threads kernels use; 0 = one per core
  bool progress = false;                // print a progress line while compiling
  bool fuse = true;                     // post-scheduling fusion; off: one kernel per operator
  bool channels_last = true;            // convolutions on NHWC tensors (graph::channels_last)
  bool winograd = true;  // 3x3 convolutions by Winograd's algorithm (graph::winograd_convolutions)
  // f16 / bf16: the float operators store their values in that type (graph::convert_precision;
  // inputs and outputs stay f32). On a GPU the matmuls and convolutions then run on tensor cores;
  // the CPU templates are f32 only (other precisions are auto-scheduled there: slower).
  ir::DType precision = ir::f32;
  // Set: the kernels are CUDA kernels for this target (built with NVRTC) and the model runs on
  // CUDA device `cuda_device` (the CPU layout rewrites above are then off). Compiling needs no
  // GPU; running does.
  std::optional<CudaTarget> cuda;
  int cuda_device = 0;
  // On CUDA: f32 matmuls and convolutions on tensor cores with their operands rounded to tf32
  // (CudaScheduleOptions::tf32), as PyTorch's allow_tf32. Off by default: f32 stays exact.
  bool tf32 = false;
};

// What compiling one input signature produced.
struct CompileReport {
  int operators = 0;        // operators left after constant folding
  int kernels = 0;          // kernels in the plan
  int kernels_built = 0;    // of those, compiled now (the rest came from the cache)
  double seconds = 0;       // wall time of the whole compilation
  int64_t arena_bytes = 0;  // peak bytes of the memory plan (intermediate tensors)
  int64_t constant_bytes = 0;
  int64_t flops = 0;  // multiply-adds count 2
  // One line per kernel, in run order: its operators ("Conv 'c1' + Relu 'r1'"), schedule and
  // problem.
  std::vector<std::string> kernel_labels;
  // "kernel: log" for each CUDA kernel NVRTC printed warnings for (none expected).
  std::vector<std::string> warnings;
};

class Model {
 public:
  static Model load(const std::string& path, ModelOptions options = {});
  explicit Model(graph::Graph graph, ModelOptions options = {});

  const graph::Graph& graph() const;
  const ModelOptions& options() const;

  // Bindings for the declared input shapes, symbolic dims taken from options().dims; a dim that
  // is neither known nor given is a UserError naming the input and the dim.
  std::vector<graph::InputBinding> default_bindings() const;

  // Compiles for `inputs` (if not compiled already) and reports on it.
  CompileReport compile(const std::vector<graph::InputBinding>& inputs);

  // What compiling for `inputs` would give (operators, kernels, FLOPs, arena bytes) without
  // building any kernel. Constant folding still runs.
  CompileReport plan_only(const std::vector<graph::InputBinding>& inputs);

  // Runs on `inputs` (graph-input order). A wrong count, dtype or shape is a UserError naming the
  // input. Returns the outputs in graph-output order.
  std::vector<NDArray> run(const std::vector<NDArray>& inputs);
  // The same; where the model runs on a GPU, `device_ms` is also set to the time the GPU took
  // for the run's kernels (CUDA events: the copies in and out are not counted). On the CPU it is
  // left as it was.
  std::vector<NDArray> run(const std::vector<NDArray>& inputs, double* device_ms);

  // Runs `repeat` times on `inputs` with a timer around every kernel; returns the kernels in
  // plan order with their mean time.
  struct KernelTime {
    std::string label;
    double ms = 0;
  };
  std::vector<KernelTime> profile(const std::vector<NDArray>& inputs, int repeat);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace taskmap
