#pragma once
// From a Task or a kernel Function to a callable kernel: implement (template or auto-scheduler),
// lower (the pass pipeline), generate C++, build through the cache, load.
//
//   Task t = schedules::matmul_task(128, 256, 64);
//   CompiledKernel k = compile_task(t);
//   k({a.data(), b.data(), c.data()});   // one pointer per task.params() entry
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/runtime/library.h"
#include "taskmap/target.h"

namespace taskmap {

struct CompileOptions {
  CpuTarget target = CpuTarget::host();
  int jobs = 0;  // compilers run at once; 0 = hardware threads
  passes::PipelineOptions pipeline = passes::PipelineOptions::from_env();
  std::function<void(size_t, size_t)> progress;  // see build::BuildOptions::progress
};

class CompiledKernel {
 public:
  CompiledKernel(std::string name, std::shared_ptr<runtime::Library> library,
                 std::vector<ir::Var> params);

  const std::string& name() const { return name_; }
  const std::vector<ir::Var>& params() const { return params_; }
  const std::shared_ptr<runtime::Library>& library() const { return library_; }
  // The generated C++ file in the cache, for reading.
  std::string source_path() const;

  // Runs the kernel. `args` holds one pointer per parameter: the data of a tensor, or the
  // address of a scalar. A wrong argument count is a UserError.
  void operator()(const std::vector<void*>& args) const;

 private:
  std::string name_;
  std::shared_ptr<runtime::Library> library_;
  runtime::Library::EntryFn entry_;
  std::vector<ir::Var> params_;
};

// The kernel for `task` on the CPU: the matching template when there is one, else the
// auto-scheduler.
ir::Function implement_cpu(const ir::Task& task, const CpuTarget& target);

// Numerics the CUDA templates may trade for speed (all off: every result as the task computes
// it, sums in f32).
struct CudaScheduleOptions {
  // f32 contractions on tensor cores with their operands rounded to tf32 (10 mantissa bits),
  // as PyTorch's allow_tf32; off, they run on CUDA cores in f32.
  bool tf32 = false;
};

// The kernels for `task` on a CUDA target, in launch order (each with its cuda.grid_dim and
// cuda.block_dim attrs): the matching template when there is one, else the auto-scheduler.
ir::Module implement_cuda(const ir::Task& task, const CudaTarget& target,
                          const CudaScheduleOptions& options = {});

// A CUDA kernel built to a cubin, with what launching it takes.
struct CompiledCudaKernel {
  std::string name;
  std::string cubin_path;  // in the kernel cache
  std::string symbol;      // the kernel's symbol in the cubin
  std::vector<std::string> assertion_messages;
  unsigned grid = 1, block = 1;  // from the kernel's cuda.grid_dim / cuda.block_dim attrs
  unsigned shared_bytes = 0;     // dynamic shared memory (cuda.dynamic_shared, else 0)
  std::string warnings;          // what NVRTC printed while compiling it ("" when nothing)
};

// Lowers every kernel, generates one CUDA translation unit per kernel and builds them with NVRTC
// for `target` (in parallel, through the cache). `options` gives the jobs, the progress callback
// and the pass pipeline (its CPU target is not used).
std::vector<CompiledCudaKernel> compile_cuda_kernels(const std::vector<ir::Function>& kernels,
                                                     const CudaTarget& target,
                                                     const CompileOptions& options = {});

// Lowers, generates and builds every kernel (in parallel, through the cache).
std::vector<CompiledKernel> compile_kernels(const std::vector<ir::Function>& kernels,
                                            const CompileOptions& options = {});
CompiledKernel compile_kernel(const ir::Function& kernel, const CompileOptions& options = {});
CompiledKernel compile_task(const ir::Task& task, const CompileOptions& options = {});

}  // namespace taskmap
