// The SIMT matmul CUDA template (schedules/matmul_cuda.h): every config of its space on ragged
// and whole-tile problems, and the operators it serves (batched MatMul, Gemm with a transposed
// operand and bias, Conv as an implicit GEMM), run on the host emulator against the CPU; every
// config compiled by NVRTC for sm_80 and sm_90 without warnings.
#include <gtest/gtest.h>

#include "cuda_build/host_cuda_support.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/schedules/matmul_cuda.h"

namespace taskmap::testing {
namespace {

const CudaTarget kTarget = CudaTarget::parse("cuda:sm_90");

void expect_matches_cpu(const ir::Task& task, const ir::Module& scheduled,
                        const std::string& what) {
  SCOPED_TRACE(what);
  expect_emulated_matches_cpu(task, scheduled, kTarget, what);
}

TEST(MatmulCuda, EveryConfigMatchesTheCpuOnRaggedAndWholeTiles) {
  for (const schedules::MatmulCudaConfig& c : schedules::matmul_cuda_space()) {
    // Ragged in M, N and K; then exactly one tile with K a whole number of steps.
    for (const Shape& mnk : {Shape{70, 100, 50}, Shape{c.block_m(), c.block_n(), 4 * c.block_k}}) {
      const ir::Task task = lower_op("MatMul", {{mnk[0], mnk[2]}, {mnk[2], mnk[1]}}, {});
      expect_matches_cpu(task, schedules::matmul_cuda(task, c), c.str() + " on " + shape_str(mnk));
    }
  }
}

TEST(MatmulCuda, ServesBatchedMatMulGemmAndConvolution) {
  const std::vector<OperatorCase> cases = {
      {"MatMul", {{3, 40, 24}, {3, 24, 36}}, {}},
      {"Gemm", {{20, 30}, {44, 30}, {44}}, {{"transB", int64_t{1}}, {"alpha", 0.5}}},
      {"Conv", {{1, 8, 10, 10}, {16, 8, 3, 3}, {16}}, {{"pads", Shape{1, 1, 1, 1}}}},
      {"Conv", {{2, 6, 9, 9}, {4, 6, 3, 3}}, {{"strides", Shape{2, 2}}}},
  };
  for (const OperatorCase& c : cases) {
    const ir::Task task = lower_op(c.type, c.inputs, c.attrs);
    const ir::Module scheduled = implement_cuda(task, kTarget);
    ASSERT_EQ(scheduled.functions.size(), 1u);
    EXPECT_EQ(scheduled.functions[0]->attrs.at("schedule").rfind("matmul_cuda", 0), 0u)
        << c.type << ": " << scheduled.functions[0]->attrs.at("schedule");
    expect_matches_cpu(task, scheduled, c.type);
  }
}

// The tile is the largest whose blocks fill the SMs (132 on sm_90): a 2048² problem takes
// 128 × 128, 1024² 32 × 64, a batch-1 transformer projection (128 × 768) the smallest.
TEST(MatmulCuda, TileFollowsTheSmCount) {
  auto chosen = [](int64_t m, int64_t n) {
    const ir::Task task = lower_op("MatMul", {{m, 64}, {64, n}}, {});
    return schedules::choose_matmul_cuda_config(*schedules::analyze_gemm(task), kTarget);
  };
  EXPECT_EQ(chosen(2048, 2048).block_m(), 128);
  EXPECT_EQ(chosen(1024, 1024).block_m(), 32);
  EXPECT_EQ(chosen(128, 768).block_m(), 16);
}

TEST(MatmulCuda, EveryConfigCompilesForSm80AndSm90WithoutWarnings) {
  std::string why_not;
  if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  const ir::Task task = lower_op("MatMul", {{300, 200}, {200, 500}}, {});
  std::vector<build::CudaCompileJob> jobs;
  for (const schedules::MatmulCudaConfig& c : schedules::matmul_cuda_space()) {
    const codegen::CudaSource source =
        codegen::generate_cuda_source(passes::lower(schedules::matmul_cuda(task, c)), kTarget);
    EXPECT_NE(source.text.find("__syncthreads()"), std::string::npos);
    // Every register tile stays in registers: unrolled, each access a literal index.
    EXPECT_EQ(
        variable_register_indices(source.text, {"acc", "a_frag", "b_frag", "a_regs", "b_regs"}),
        std::vector<std::string>{})
        << c.str();
    jobs.push_back({c.str(), source.text});
  }
  expect_cubins_without_warnings(jobs);
}

}  // namespace
}  // namespace taskmap::testing
