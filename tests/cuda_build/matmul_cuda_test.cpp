// The SIMT matmul CUDA template (schedules/matmul_cuda.h): every config of its space on ragged
// and whole-tile problems, whole and split along K, and the operators it serves (batched MatMul,
// Gemm with a transposed operand and bias, Conv as an implicit GEMM; f16 / bf16 ones the
// tensor-core template declines), run on the host emulator against the CPU; every config compiled
// by NVRTC for sm_80 and sm_90 without warnings.
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

// f16 / bf16 contractions the tensor-core template declines (K = 27 or 20, not in 16-byte
// chunks) run here, their factors widened as the tiles load and the sum narrowed by the
// epilogue, whole and split.
TEST(MatmulCuda, ServesNarrowContractionsTheTensorCoresDecline) {
  for (const ir::DType dtype : {ir::f16, ir::bf16}) {
    const std::vector<OperatorCase> cases = {
        {"Conv", {{1, 3, 10, 10}, {16, 3, 3, 3}, {16}}, {{"pads", Shape{1, 1, 1, 1}}}},
        {"MatMul", {{48, 20}, {20, 40}}, {}},
    };
    for (const OperatorCase& c : cases) {
      const std::string what = c.type + " " + dtype.name();
      const ir::Task task = lower_typed(c.type, dtype, c.inputs, c.attrs);
      const ir::Module scheduled = implement_cuda(task, kTarget);
      EXPECT_EQ(scheduled.functions.at(0)->attrs.at("schedule").rfind("matmul_cuda", 0), 0u)
          << what << ": " << scheduled.functions[0]->attrs.at("schedule");
      expect_emulated_matches_cpu(task, scheduled, kTarget, what, narrow_rtol(dtype));
      schedules::MatmulCudaConfig split = schedules::matmul_cuda_space().back();
      split.split_k = 2;
      expect_emulated_matches_cpu(task, schedules::matmul_cuda(task, split), kTarget,
                                  what + " split-k 2", narrow_rtol(dtype));
    }
  }
}

// Split-k: each config with K in three ranges (the last ragged: 50 = 3 + 3 + 1 steps of 8) and
// in two whole ranges; the partial sums go through the workspace (poisoned by the emulator) and
// the second kernel applies the epilogue (Gemm's alpha and bias; a convolution's).
TEST(MatmulCuda, SplitKMatchesTheCpu) {
  for (schedules::MatmulCudaConfig c : schedules::matmul_cuda_space()) {
    for (const auto& [mnk, splits] : std::vector<std::pair<Shape, int64_t>>{
             {Shape{70, 100, 50}, 3}, {Shape{c.block_m(), c.block_n(), 4 * c.block_k}, 2}}) {
      c.split_k = splits;
      const ir::Task task = lower_op("MatMul", {{mnk[0], mnk[2]}, {mnk[2], mnk[1]}}, {});
      const ir::Module scheduled = schedules::matmul_cuda(task, c);
      ASSERT_EQ(scheduled.functions.size(), 2u) << c.str();
      ASSERT_EQ(scheduled.workspace.size(), 1u);
      EXPECT_EQ(scheduled.workspace[0].type().shape(), (Shape{splits, 1, mnk[0], mnk[1]}));
      expect_matches_cpu(task, scheduled, c.str() + " on " + shape_str(mnk));
    }
  }
  schedules::MatmulCudaConfig small = schedules::matmul_cuda_space()[2];
  small.split_k = 4;
  for (const OperatorCase& c : std::vector<OperatorCase>{
           {"Gemm", {{20, 96}, {44, 96}, {44}}, {{"transB", int64_t{1}}, {"alpha", 0.5}}},
           {"Conv", {{1, 8, 10, 10}, {16, 8, 3, 3}, {16}}, {{"pads", Shape{1, 1, 1, 1}}}},
       }) {
    const ir::Task task = lower_op(c.type, c.inputs, c.attrs);
    expect_matches_cpu(task, schedules::matmul_cuda(task, small), c.type + " split-k 4");
  }
}

// The tile is the largest whose blocks fill the SMs (132 on sm_90), K split into ranges of at
// least 256 when its tiles alone are too few: a 2048² problem takes 128 × 128 whole, 1024² with
// K = 64 (too short to split) 32 × 64; batch-1 transformer projections (M = 128) split K: 32 ×
// 64 tiles in 3 ranges for 768², 64 × 128 in 11 for K = 3072.
TEST(MatmulCuda, TileAndSplitFollowTheSmCount) {
  auto chosen = [](int64_t m, int64_t n, int64_t k) {
    const ir::Task task = lower_op("MatMul", {{m, k}, {k, n}}, {});
    return schedules::choose_matmul_cuda_config(*schedules::analyze_gemm(task), kTarget);
  };
  EXPECT_EQ(chosen(2048, 2048, 64).block_m(), 128);
  EXPECT_EQ(chosen(2048, 2048, 4096).split_k, 1);
  EXPECT_EQ(chosen(1024, 1024, 64).block_m(), 32);
  EXPECT_EQ(chosen(1024, 1024, 64).split_k, 1);
  EXPECT_EQ(chosen(128, 768, 64).block_m(), 16);
  EXPECT_EQ(chosen(128, 768, 768).block_m(), 32);
  EXPECT_EQ(chosen(128, 768, 768).split_k, 3);
  EXPECT_EQ(chosen(128, 768, 3072).block_m(), 64);
  EXPECT_EQ(chosen(128, 768, 3072).split_k, 11);
  EXPECT_EQ(chosen(128, 768, 3072).str(),
            "64x128x8, warps 2x2, repeat 2x2, lanes 4x8, thread 4x4, split-k 11");
  // 16 rows (a MobileNetV2 projection, 16 x 12544 x 32): 128 x 128 tiles would fill the SMs,
  // but compute 8 times the rows the 16 x 32 tile does; 16-row tiles are taken.
  EXPECT_EQ(chosen(16, 12544, 32).block_m(), 16);
}

TEST(MatmulCuda, EveryConfigCompilesForSm80AndSm90WithoutWarnings) {
  std::string why_not;
  if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  const ir::Task task = lower_op("MatMul", {{300, 200}, {200, 500}}, {});
  std::vector<build::CudaCompileJob> jobs;
  std::vector<schedules::MatmulCudaConfig> configs = schedules::matmul_cuda_space();
  for (schedules::MatmulCudaConfig split : schedules::matmul_cuda_space()) {
    split.split_k = 3;
    configs.push_back(split);
  }
  for (const schedules::MatmulCudaConfig& c : configs) {
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
