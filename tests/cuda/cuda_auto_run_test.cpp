// The CUDA auto-scheduler's kernels run on the GPU against the CPU backend: each ONNX operator's
// task is built for both, run on the same random inputs (the GPU outputs poisoned with NaN
// first), and the outputs compared. Skips, saying why, where there is no NVRTC or no GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "cuda/cuda_device_test.h"
#include "cuda_build/cuda_kernels_support.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/error.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/runtime/cuda_module.h"
#include "taskmap/schedules/auto_cuda.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap {
namespace {
using namespace taskmap::testing;

std::vector<OperatorCase> op_cases() {
  std::vector<OperatorCase> cases;
  for (const char* unary : {"Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Neg", "Floor", "Softplus"})
    cases.push_back({unary, {{2, 3, 333}}, {}});
  for (const char* binary : {"Add", "Sub", "Mul", "Div", "Max", "Min"})
    cases.push_back({binary, {{2, 3, 333}, {333}}, {}});
  cases.push_back({"Transpose", {{4, 30, 50}}, {{"perm", Shape{2, 0, 1}}}});
  // Row reductions through the warp-per-row template (the last axis; two trailing axes; a
  // global pool; a max) and one over a leading axis through the auto-scheduler.
  cases.push_back({"ReduceMean", {{40, 700}}, {{"axes", Shape{1}}}});
  cases.push_back({"ReduceSum", {{6, 5, 300}}, {{"axes", Shape{1, 2}}}});
  cases.push_back({"GlobalAveragePool", {{1, 64, 7, 7}}, {}});
  cases.push_back({"ReduceMax", {{40, 700}}, {{"axes", Shape{1}}}});
  cases.push_back({"ReduceMax", {{40, 700}}, {{"axes", Shape{0}}}});
  // The warp-per-row normalizations: rows of whole warps, a ragged last step, a row shorter
  // than a warp, a row count that leaves part of the last block idle, statistics read by
  // statistics (layer norm) and a log-softmax.
  cases.push_back({"Softmax", {{12, 128}}, {{"axis", int64_t{1}}}});
  cases.push_back({"Softmax", {{3, 5, 1000}}, {{"axis", int64_t{-1}}}});
  cases.push_back({"Softmax", {{13, 7}}, {{"axis", int64_t{1}}}});
  cases.push_back({"LayerNormalization", {{16, 768}, {768}, {768}}, {{"axis", int64_t{-1}}}});
  cases.push_back({"LayerNormalization", {{2, 9, 100}, {100}}, {{"axis", int64_t{-1}}}});
  cases.push_back({"LogSoftmax", {{11, 300}}, {{"axis", int64_t{-1}}}});
  cases.push_back({"MatMul", {{3, 64, 96}, {96, 80}}, {}});
  cases.push_back({"Conv", {{1, 8, 20, 20}, {16, 8, 3, 3}}, {{"pads", Shape{1, 1, 1, 1}}}});
  cases.push_back({"MaxPool", {{1, 8, 20, 20}}, {{"kernel_shape", Shape{3, 3}}}});
  cases.push_back({"Concat", {{20, 30}, {20, 50}}, {{"axis", int64_t{1}}}});
  return cases;
}

int64_t elements_of(const ir::Var& param) {
  const std::vector<int64_t>& shape = param.type().shape();
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

class CudaAutoRun : public testing::CudaDeviceTest {};

TEST_F(CudaAutoRun, OnnxOperatorsMatchTheCpu) {
  runtime::CudaContext gpu(0);
  for (const OperatorCase& c : op_cases()) {
    SCOPED_TRACE(c.type);
    const ir::Task task = lower_op(c.type, c.inputs, c.attrs);
    const std::vector<ir::Var> params = task.params();
    const size_t num_inputs = task.inputs().size();

    // Inputs, and the CPU's outputs as the reference.
    std::vector<std::vector<float>> host(params.size());
    for (size_t i = 0; i < params.size(); ++i)
      host[i] =
          i < num_inputs ? random_data(elements_of(params[i])) : poisoned(elements_of(params[i]));
    std::vector<void*> cpu_args;
    for (auto& data : host) cpu_args.push_back(data.data());
    compile_all_auto({task})[0](cpu_args);

    const ir::Module scheduled = implement_cuda(task, target_);
    const codegen::CudaSource source =
        codegen::generate_cuda_source(passes::lower(scheduled), target_);
    build::CudaBuildOptions options;
    options.target = target_;
    const build::Cubin cubin = build::build_cubins({{c.type, source.text}}, options)[0];
    runtime::CudaModule module(gpu, cubin.path, source.assertion_messages);

    std::vector<runtime::DeviceBuffer> buffers;
    std::vector<runtime::CudaDriver::DevicePtr> pointers;
    for (size_t i = 0; i < params.size(); ++i) {
      buffers.emplace_back(gpu, host[i].size() * sizeof(float));
      if (i < num_inputs)
        buffers.back().upload(host[i].data(), host[i].size() * sizeof(float));
      else
        buffers.back().fill_words(0x7fc00000u);  // NaN: an element no thread wrote fails
    }
    std::vector<void*> args;
    for (const runtime::DeviceBuffer& b : buffers) pointers.push_back(b.pointer());
    for (runtime::CudaDriver::DevicePtr& p : pointers) args.push_back(&p);
    for (const ir::Function& kernel : scheduled.functions) {
      module.launch(source.symbols.at(kernel->name),
                    static_cast<unsigned>(std::stoul(kernel->attrs.at("cuda.grid_dim"))),
                    static_cast<unsigned>(std::stoul(kernel->attrs.at("cuda.block_dim"))), args);
    }
    gpu.synchronize();
    module.check_assertions();

    for (size_t i = num_inputs; i < params.size(); ++i) {
      std::vector<float> gpu_out(host[i].size());
      buffers[i].download(gpu_out.data(), gpu_out.size() * sizeof(float));
      expect_close(gpu_out, std::vector<double>(host[i].begin(), host[i].end()),
                   c.type + " output " + std::to_string(i - num_inputs), 1e-4);
    }
  }
}

// Shared memory, barriers, warp shuffles and atomics: the sum of 100,000 random values against
// a double-precision one.
TEST_F(CudaAutoRun, BlockSumMatchesTheHost) {
  constexpr int64_t n = 100000;
  runtime::CudaContext gpu(0);
  const codegen::CudaSource source = codegen::generate_cuda_source(
      ir::Module{"block_sum", {passes::lower(block_sum_kernel(n))}}, target_);
  build::CudaBuildOptions options;
  options.target = target_;
  runtime::CudaModule module(gpu,
                             build::build_cubins({{"block_sum", source.text}}, options)[0].path);
  const std::vector<float> x = random_data(n);
  runtime::DeviceBuffer x_gpu(gpu, n * sizeof(float)), out_gpu(gpu, sizeof(float));
  x_gpu.upload(x.data(), n * sizeof(float));
  out_gpu.fill_words(0);
  runtime::CudaDriver::DevicePtr px = x_gpu.pointer(), pout = out_gpu.pointer();
  module.launch(source.symbols.at("block_sum"), (n + 255) / 256, 256, {&px, &pout});
  gpu.synchronize();
  float sum = 0;
  out_gpu.download(&sum, sizeof(float));
  double expected = 0, magnitude = 0;
  for (float v : x) expected += v, magnitude += std::fabs(v);
  EXPECT_NEAR(sum, expected, 1e-5 * magnitude);
}

TEST_F(CudaAutoRun, MissingDevicesAndKernelsAreUserErrors) {
  EXPECT_THROW(runtime::CudaContext(1 << 20), UserError);
  runtime::CudaContext gpu(0);
  EXPECT_THROW(runtime::CudaModule(gpu, "/nonexistent/kernel.cubin"), UserError);
}

}  // namespace
}  // namespace taskmap
