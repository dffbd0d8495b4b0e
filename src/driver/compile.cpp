// The compile driver: the one place that strings the layers together.
#include "taskmap/compile.h"

#include "taskmap/build/compiler.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cpu_codegen.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/error.h"
#include "taskmap/schedules/auto_cuda.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/channels_last_window_cpu.h"
#include "taskmap/schedules/depthwise_cpu.h"
#include "taskmap/schedules/gemm_cpu.h"
#include "taskmap/schedules/matmul_cpu.h"
#include "taskmap/schedules/matmul_cuda.h"
#include "taskmap/schedules/matmul_mma_cuda.h"
#include "taskmap/schedules/pool_cpu.h"
#include "taskmap/schedules/softmax_cpu.h"
#include "taskmap/schedules/warp_rows_cuda.h"
#include "taskmap/schedules/winograd_cpu.h"

namespace taskmap {

CompiledKernel::CompiledKernel(std::string name, std::shared_ptr<runtime::Library> library,
                               std::vector<ir::Var> params)
    : name_(std::move(name)), library_(std::move(library)), params_(std::move(params)) {
  entry_ = library_->entry(name_);
}

std::string CompiledKernel::source_path() const {
  std::string path = library_->path();
  auto dot = path.rfind(".so");
  return dot == std::string::npos ? path : path.substr(0, dot) + ".cpp";
}

void CompiledKernel::operator()(const std::vector<void*>& args) const {
  TM_USER_CHECK(args.size() == params_.size())
      << "kernel '" << name_ << "' takes " << params_.size() << " arguments, got " << args.size();
  int status = entry_(args.data());
  TM_USER_CHECK(status == 0) << "kernel '" << name_ << "' failed: " << library_->last_error();
}

ir::Function implement_cpu(const ir::Task& task, const CpuTarget& target) {
  if (auto plan = schedules::plan_winograd(task, target)) {
    return schedules::winograd_cpu(task, *plan);
  }
  if (auto plan = schedules::plan_gemm(task, target)) return schedules::gemm_cpu(task, *plan);
  if (schedules::is_matmul_task(task)) {
    return schedules::matmul_cpu(task, schedules::default_matmul_config(target));
  }
  if (auto plan = schedules::plan_depthwise(task, target)) {
    return schedules::depthwise_cpu(task, *plan);
  }
  if (auto plan = schedules::plan_pool(task, target)) return schedules::pool_cpu(task, *plan);
  if (auto plan = schedules::plan_channels_last_window(task, target)) {
    return schedules::channels_last_window_cpu(task, *plan);
  }
  if (auto plan = schedules::plan_softmax(task, target)) return schedules::softmax_cpu(task, *plan);
  if (auto plan = schedules::plan_row_reduce(task, target)) {
    return schedules::row_reduce_cpu(task, *plan);
  }
  return schedules::auto_schedule_cpu(task);
}

ir::Module implement_cuda(const ir::Task& task, const CudaTarget& target,
                          const CudaScheduleOptions& options) {
  if (auto module = schedules::matmul_mma_cuda(task, target, options.tf32)) return *module;
  if (auto module = schedules::matmul_cuda(task, target)) return *module;
  if (auto module = schedules::normalize_rows_cuda(task, target)) return *module;
  if (auto module = schedules::row_reduce_cuda(task, target)) return *module;
  return schedules::auto_schedule_cuda(task, target);
}

std::vector<CompiledKernel> compile_kernels(const std::vector<ir::Function>& kernels,
                                            const CompileOptions& options) {
  std::vector<build::CompileJob> jobs;
  for (const ir::Function& f : kernels) {
    ir::Module module{f->name, {passes::lower(f, options.pipeline)}};
    jobs.push_back({f->name, codegen::generate_cpu_source(module, options.target)});
  }
  build::BuildOptions build_options;
  build_options.target = options.target;
  build_options.jobs = options.jobs;
  build_options.progress = options.progress;
  std::vector<std::shared_ptr<runtime::Library>> libraries =
      build::build_shared_objects(jobs, build_options);
  std::vector<CompiledKernel> out;
  for (size_t i = 0; i < kernels.size(); ++i) {
    out.emplace_back(kernels[i]->name, libraries[i], kernels[i]->params);
  }
  return out;
}

namespace {

// A launch-shape attr of a CUDA kernel: a positive number that fits a launch.
unsigned launch_attr(const ir::Function& f, const std::string& key, unsigned fallback) {
  auto it = f->attrs.find(key);
  if (it == f->attrs.end()) return fallback;
  const unsigned long long value = std::stoull(it->second);
  TM_ASSERT(value <= 0x7fffffffull) << "kernel " << f->name << ": " << key << " = " << value;
  return static_cast<unsigned>(value);
}

}  // namespace

std::vector<CompiledCudaKernel> compile_cuda_kernels(const std::vector<ir::Function>& kernels,
                                                     const CudaTarget& target,
                                                     const CompileOptions& options) {
  std::vector<build::CudaCompileJob> jobs;
  std::vector<codegen::CudaSource> sources;
  for (const ir::Function& f : kernels) {
    TM_ASSERT(f->attrs.count("cuda.grid_dim") && f->attrs.count("cuda.block_dim"))
        << "CUDA kernel " << f->name << " has no launch shape (cuda.grid_dim / cuda.block_dim)";
    ir::Module module{f->name, {passes::lower(f, options.pipeline)}};
    sources.push_back(codegen::generate_cuda_source(module, target));
    jobs.push_back({f->name, sources.back().text});
  }
  build::CudaBuildOptions build_options;
  build_options.target = target;
  build_options.jobs = options.jobs;
  build_options.progress = options.progress;
  const std::vector<build::Cubin> cubins = build::build_cubins(jobs, build_options);
  std::vector<CompiledCudaKernel> out;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const ir::Function& f = kernels[i];
    CompiledCudaKernel k;
    k.name = f->name;
    k.cubin_path = cubins[i].path;
    k.symbol = sources[i].symbols.at(f->name);
    k.assertion_messages = sources[i].assertion_messages;
    k.grid = launch_attr(f, "cuda.grid_dim", 1);
    k.block = launch_attr(f, "cuda.block_dim", 1);
    k.shared_bytes = launch_attr(f, "cuda.dynamic_shared", 0);
    k.warnings = cubins[i].warnings;
    out.push_back(std::move(k));
  }
  return out;
}

CompiledKernel compile_kernel(const ir::Function& kernel, const CompileOptions& options) {
  return compile_kernels({kernel}, options).front();
}

CompiledKernel compile_task(const ir::Task& task, const CompileOptions& options) {
  return compile_kernel(implement_cpu(task, options.target), options);
}

}  // namespace taskmap
