// The CUDA auto-scheduler over ONNX operators: each operator's task → a lowered module → CUDA
// source, which NVRTC compiles for sm_80 and sm_90 without a warning. Hand-built f16 and bf16
// tasks check the toolkit's half-precision headers. Needs NVRTC, not a GPU; what the kernels
// compute is checked against the CPU where a GPU is present (label cuda).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "build/subprocess.h"
#include "cuda_build/cuda_kernels_support.h"
#include "cuda_build/host_cuda_support.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/error.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/schedules/auto_cuda.h"

namespace taskmap {
namespace {
using testing::count_of;
using testing::lower_op;
using testing::OperatorCase;
using testing::Shape;

std::vector<OperatorCase> op_cases() {
  std::vector<OperatorCase> cases;
  for (const char* unary :
       {"Relu", "Sigmoid",  "Tanh",  "Erf",       "Exp",         "Log",        "Sqrt",
        "Abs",  "Neg",      "Floor", "Ceil",      "Round",       "Reciprocal", "Sin",
        "Cos",  "Softplus", "Elu",   "LeakyRelu", "HardSigmoid", "IsNaN",      "Sign"})
    cases.push_back({unary, {{2, 3, 33}}, {}});
  for (const char* binary : {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Less"})
    cases.push_back({binary, {{2, 3, 33}, {33}}, {}});
  cases.push_back({"Transpose", {{2, 3, 5}}, {{"perm", Shape{2, 0, 1}}}});
  cases.push_back({"ReduceMean", {{4, 70}}, {{"axes", Shape{1}}}});
  cases.push_back({"ReduceMax", {{4, 70}}, {{"axes", Shape{1}}}});
  cases.push_back({"ReduceSum", {{6, 5, 300}}, {{"axes", Shape{1, 2}}}});
  cases.push_back({"ArgMax", {{4, 70}}, {{"axis", int64_t{1}}}});
  cases.push_back({"MatMul", {{3, 16, 24}, {24, 40}}, {}});
  cases.push_back({"Gemm", {{16, 24}, {24, 40}, {40}}, {}});
  cases.push_back({"Conv", {{1, 3, 12, 12}, {8, 3, 3, 3}}, {{"pads", Shape{1, 1, 1, 1}}}});
  cases.push_back({"MaxPool", {{1, 4, 12, 12}}, {{"kernel_shape", Shape{3, 3}}}});
  cases.push_back({"AveragePool", {{1, 4, 12, 12}}, {{"kernel_shape", Shape{2, 2}}}});
  cases.push_back({"GlobalAveragePool", {{1, 4, 7, 7}}, {}});
  cases.push_back({"Concat", {{2, 3}, {2, 5}}, {{"axis", int64_t{1}}}});
  // Normalizations along the last axis through the warp-per-row template.
  cases.push_back({"Softmax", {{4, 70}}, {{"axis", int64_t{1}}}});
  cases.push_back({"LayerNormalization", {{4, 70}, {70}, {70}}, {{"axis", int64_t{-1}}}});
  cases.push_back({"LogSoftmax", {{4, 70}}, {{"axis", int64_t{1}}}});
  return cases;
}

// f16 / bf16 through the toolkit's headers: a scaled, clipped sum of two tensors.
ir::Task half_task(ir::DType dtype) {
  using namespace ir;
  Var x = tensor_input("x", dtype, {4, 33}), y = tensor_input("y", dtype, {33});
  Expr z = compute("z", {4, 33}, [&](const Index& at) {
    Expr v = load(x, {at[0], at[1]}) * make_const(dtype, 0.5) + load(y, {at[1]});
    return min(max(call("tanh", {v}), make_const(dtype, -0.5)), make_const(dtype, 0.75));
  });
  return Task(dtype == f16 ? "half_clip" : "bfloat_clip", {x, y}, {z});
}

class CudaAutoBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  }
};

TEST_F(CudaAutoBuild, OnnxOperatorsCompileForSm80AndSm90WithoutWarnings) {
  std::vector<build::CudaCompileJob> jobs;
  for (const OperatorCase& c : op_cases()) {
    SCOPED_TRACE(c.type);
    const ir::Task task = lower_op(c.type, c.inputs, c.attrs);
    const CudaTarget target = CudaTarget::parse("cuda:sm_90");
    const codegen::CudaSource source =
        codegen::generate_cuda_source(passes::lower(implement_cuda(task, target)), target);
    EXPECT_NE(source.text.find("__global__"), std::string::npos) << source.text;
    jobs.push_back({c.type, source.text});
  }
  for (ir::DType dtype : {ir::f16, ir::bf16}) {
    const ir::Task task = half_task(dtype);
    const CudaTarget target = CudaTarget::parse("cuda:sm_80");
    jobs.push_back(
        {task.name(), codegen::generate_cuda_source(
                          passes::lower(schedules::auto_schedule_cuda(task, target)), target)
                          .text});
  }
  testing::expect_cubins_without_warnings(jobs);
}

// The nvcc that prints PTX for the tests ($CUDA_HOME/bin, /usr/local/cuda/bin, else PATH), or "".
std::string find_nvcc() {
  const char* home = std::getenv("CUDA_HOME");
  for (const std::string& candidate :
       {std::string(home != nullptr ? home : "/usr/local/cuda") + "/bin/nvcc", std::string("nvcc")})
    if (std::string path = build::resolve_program(candidate); !path.empty()) return path;
  return "";
}

// The PTX `nvcc` makes of `source` for sm_90; a failing nvcc fails the test.
std::string ptx_of(const std::string& nvcc, const std::string& source) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("taskmap_ptx_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "k.cu") << source;
  const build::ProcessResult result =
      build::run_process({nvcc, "-ptx", "-arch=sm_90", "-std=c++17", "-o", (dir / "k.ptx").string(),
                          (dir / "k.cu").string()});
  EXPECT_TRUE(result.ok()) << "nvcc " << result.describe() << ":\n" << result.output;
  std::ifstream in(dir / "k.ptx");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return text;
}

// An elementwise group's thread takes 16 bytes of consecutive elements, and the kernel says its
// tensors are 16-byte aligned: nvcc merges the thread's loads and stores into vector ones (a
// broadcast add: the row and the broadcast vector loaded, the sum stored, 4 floats each; an f16
// transpose).
TEST_F(CudaAutoBuild, ElementwiseGroupsLoadAndStoreSixteenBytes) {
  const CudaTarget target = CudaTarget::parse("cuda:sm_90");
  const ir::Task task = testing::lower_typed("Add", ir::f32, {{64, 768}, {768}});
  const codegen::CudaSource source =
      codegen::generate_cuda_source(passes::lower(implement_cuda(task, target)), target);
  EXPECT_EQ(count_of(source.text, "__builtin_assume_aligned("), 3) << source.text;
  const std::string nvcc = find_nvcc();
  if (nvcc.empty()) GTEST_SKIP() << "no nvcc (in $CUDA_HOME/bin, /usr/local/cuda/bin or PATH)";
  const std::string ptx = ptx_of(nvcc, source.text);
  EXPECT_EQ(count_of(ptx, "ld.global.v4.f32"), 2) << ptx;
  EXPECT_EQ(count_of(ptx, "st.global.v4.f32"), 1) << ptx;
  EXPECT_EQ(count_of(ptx, "ld.global.f32"), 0) << ptx;

  // An f16 transpose of attention heads (the rows of 64 stay rows): 8 halves a thread, stored
  // as one 16-byte vector; nvcc merges the loads, whose offsets it unravels through divisions,
  // only in part (5 loads of 2 and 4 bytes in nvcc 13.0), fewer than 8 still.
  const ir::Task heads =
      testing::lower_typed("Transpose", ir::f16, {{12, 128, 64}}, {{"perm", Shape{1, 0, 2}}});
  const std::string heads_ptx = ptx_of(
      nvcc,
      codegen::generate_cuda_source(passes::lower(implement_cuda(heads, target)), target).text);
  EXPECT_EQ(count_of(heads_ptx, "st.global.v4"), 1) << heads_ptx;
  EXPECT_EQ(count_of(heads_ptx, "st.global."), 1) << heads_ptx;
  EXPECT_LT(count_of(heads_ptx, "ld.global."), 8) << heads_ptx;
}

// Normalizations along the last axis and row reductions take the warp-per-row templates: one
// kernel, eight rows per block of 256 threads, each of a row's reductions folded across the warp
// by five xor shuffles. A reduction over a leading axis, a normalization over two axes and rows
// shorter than a warp (for a plain reduction) stay with the auto-scheduler.
TEST_F(CudaAutoBuild, WarpPerRowTemplatesAreTaken) {
  const CudaTarget target = CudaTarget::parse("cuda:sm_90");
  auto schedule_of = [&](const ir::Module& m) { return m.functions.at(0)->attrs.at("schedule"); };
  auto shuffles = [&](const ir::Module& m) {
    return count_of(codegen::generate_cuda_source(passes::lower(m), target).text,
                    "__shfl_xor_sync(");
  };
  const ir::Module softmax =
      implement_cuda(lower_op("Softmax", {{3, 5, 1000}}, {{"axis", int64_t{-1}}}), target);
  ASSERT_EQ(softmax.functions.size(), 1u);
  const ir::Function& kernel = softmax.functions[0];
  EXPECT_EQ(schedule_of(softmax).rfind("normalize_rows_cuda", 0), 0u);
  EXPECT_EQ(kernel->attrs.at("cuda.block_dim"), "256");
  EXPECT_EQ(kernel->attrs.at("cuda.grid_dim"), "2");  // 15 rows, 8 per block
  EXPECT_EQ(shuffles(softmax), 10);                   // max and sum

  // Mean, variance (reading the mean) and 1 / sqrt(variance + epsilon) once per row.
  const ir::Module layer_norm = implement_cuda(
      lower_op("LayerNormalization", {{1, 128, 768}, {768}, {768}}, {{"axis", int64_t{-1}}}),
      target);
  ASSERT_EQ(layer_norm.functions.size(), 1u);
  EXPECT_EQ(schedule_of(layer_norm).rfind("normalize_rows_cuda", 0), 0u);
  EXPECT_EQ(layer_norm.functions[0]->attrs.at("cuda.grid_dim"), "16");
  EXPECT_EQ(shuffles(layer_norm), 10);
  const ir::Module log_softmax =
      implement_cuda(lower_op("LogSoftmax", {{4, 70}}, {{"axis", int64_t{1}}}), target);
  EXPECT_EQ(schedule_of(log_softmax).rfind("normalize_rows_cuda", 0), 0u);

  const ir::Module mean =
      implement_cuda(lower_op("ReduceMean", {{6, 5, 300}}, {{"axes", Shape{1, 2}}}), target);
  EXPECT_EQ(schedule_of(mean).rfind("row_reduce_cuda", 0), 0u);
  EXPECT_EQ(mean.functions[0]->attrs.at("cuda.grid_dim"), "1");  // 6 rows of 1500
  EXPECT_EQ(shuffles(mean), 5);

  EXPECT_EQ(
      schedule_of(implement_cuda(
          lower_op("LayerNormalization", {{4, 6, 70}, {6, 70}}, {{"axis", int64_t{1}}}), target)),
      "auto");
  EXPECT_EQ(
      schedule_of(implement_cuda(lower_op("ReduceMax", {{40, 70}}, {{"axes", Shape{0}}}), target)),
      "auto");
  EXPECT_EQ(
      schedule_of(implement_cuda(lower_op("ReduceSum", {{40, 20}}, {{"axes", Shape{1}}}), target)),
      "auto");
}

// Shared memory, barriers, warp shuffles and atomics, printed and compiled.
TEST_F(CudaAutoBuild, BlockSumWithSharedMemoryShufflesAndAtomics) {
  const CudaTarget target = CudaTarget::parse("cuda:sm_90");
  const codegen::CudaSource source = codegen::generate_cuda_source(
      ir::Module{"block_sum", {passes::lower(testing::block_sum_kernel(10000))}}, target);
  const std::string& text = source.text;
  for (const char* line :
       {"__launch_bounds__(256) block_sum(", "__shared__ alignas(16) float partial[8];",
        "__shfl_down_sync(0xffffffffu, v, 16)", "__syncthreads();", "atomicAdd(&out[0], v);",
        "float* __restrict__ out"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  for (const char* arch : {"cuda:sm_80", "cuda:sm_90"}) {
    build::CudaBuildOptions options;
    options.target = CudaTarget::parse(arch);
    EXPECT_EQ(build::build_cubins({{"block_sum", text}}, options)[0].warnings, "") << arch;
  }
}

}  // namespace
}  // namespace taskmap
