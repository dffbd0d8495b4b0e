#pragma once
// From a specialized graph (every shape known, constants folded) to an Executable: one kernel per
// operator (views alias their input instead), all kernels built in one parallel batch, and the
// memory plan.
#include <memory>

#include "taskmap/graph/graph.h"
#include "taskmap/model.h"
#include "taskmap/runtime/cuda_executable.h"
#include "taskmap/runtime/executable.h"

namespace taskmap::model {

struct BuiltPlan {
  // The plan on the CPU, or (options.cuda set) on a CUDA device: one of the two.
  std::shared_ptr<runtime::Executable> executable;
  std::shared_ptr<runtime::CudaExecutable> cuda_executable;
  CompileReport report;  // all but `seconds`
};

// With `build` false, no kernel is built and the executable has no calls (for inspection).
BuiltPlan build_plan(const graph::Graph& graph, const ModelOptions& options, bool build = true);

// Floating-point work of a task: 2 per multiply-add of every reduction.
int64_t count_flops(const ir::Task& task);

}  // namespace taskmap::model
