// The tensor-core matmul CUDA template (schedules/matmul_mma_cuda.h): every config of its space
// on f16 and bf16, B stored along N and along K (Gemm's transB), ragged and whole tiles,
// batched and broadcast operands, run on the host emulator (cp.async, ldmatrix and mma.sync as
// the PTX ISA defines them) against the CPU; which tasks it declines; every config compiled by
// NVRTC for sm_80 and sm_90 without warnings.
#include <gtest/gtest.h>

#include <tuple>

#include "cuda_build/host_cuda_support.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/schedules/matmul_mma_cuda.h"

namespace taskmap::testing {
namespace {

const CudaTarget kTarget = CudaTarget::parse("cuda:sm_90");

std::string schedule_of(const ir::Module& m) {
  return m.functions.at(0)->attrs.at("schedule");
}

TEST(MatmulMmaCuda, EveryConfigMatchesTheCpuOnRaggedAndWholeTiles) {
  for (const ir::DType dtype : {ir::f16, ir::bf16}) {
    for (const schedules::MatmulMmaConfig& c : schedules::matmul_mma_space()) {
      // Ragged in M, N and K (K and N in whole 16-byte chunks, as the copies need); then
      // exactly one tile with K a whole number of steps.
      for (const Shape& mnk : {Shape{70, 88, 48}, Shape{c.block_m, c.block_n, 3 * c.block_k}}) {
        const std::string what = dtype.name() + " " + c.str() + " on " + shape_str(mnk);
        SCOPED_TRACE(what);
        const ir::Task task = lower_typed("MatMul", dtype, {{mnk[0], mnk[2]}, {mnk[2], mnk[1]}});
        std::optional<ir::Module> scheduled = schedules::matmul_mma_cuda(task, c);
        ASSERT_TRUE(scheduled.has_value());
        expect_emulated_matches_cpu(task, *scheduled, kTarget, what, narrow_rtol(dtype));
      }
    }
  }
}

TEST(MatmulMmaCuda, ServesBatchedBroadcastAndTransposedOperands) {
  const std::vector<OperatorCase> cases = {
      {"MatMul", {{3, 40, 24}, {3, 24, 32}}, {}},
      {"MatMul", {{2, 3, 20, 16}, {16, 40}}, {}},  // B shared by the whole batch
      {"Gemm", {{20, 32}, {48, 32}, {48}}, {{"transB", int64_t{1}}, {"alpha", 0.5}}},
  };
  for (const OperatorCase& c : cases) {
    SCOPED_TRACE(c.type + " " + shape_str(c.inputs[0]));
    const ir::Task task = lower_typed(c.type, ir::f16, c.inputs, c.attrs);
    const ir::Module scheduled = implement_cuda(task, kTarget);
    ASSERT_EQ(scheduled.functions.size(), 1u);
    EXPECT_EQ(schedule_of(scheduled).rfind("matmul_mma_cuda", 0), 0u) << schedule_of(scheduled);
    if (c.type == "Gemm") {
      EXPECT_NE(schedule_of(scheduled).find("B along K"), std::string::npos);
    }
    expect_emulated_matches_cpu(task, scheduled, kTarget, c.type, narrow_rtol(ir::f16));
  }
}

// An A whose chunks of eight are not 16-byte aligned (K = 20) or run along M (a transposed A),
// f32 inputs without tf32 and a target without cp.async / m16n8k16 (sm_75) all go to another
// schedule.
TEST(MatmulMmaCuda, DeclinesWhatItsCopiesCannotRead) {
  auto schedule = [](const ir::Task& task, const char* target) {
    return schedule_of(implement_cuda(task, CudaTarget::parse(target)));
  };
  const ir::Task odd_k = lower_typed("MatMul", ir::f16, {{32, 20}, {20, 32}});
  EXPECT_FALSE(schedules::matmul_mma_cuda(odd_k, kTarget).has_value());
  const ir::Task trans_a =
      lower_typed("Gemm", ir::f16, {{32, 40}, {32, 48}}, {{"transA", int64_t{1}}});
  EXPECT_FALSE(schedules::matmul_mma_cuda(trans_a, kTarget).has_value());
  EXPECT_EQ(schedule(lower_typed("MatMul", ir::f32, {{64, 64}, {64, 64}}), "cuda:sm_90")
                .rfind("matmul_cuda", 0),
            0u);
  const ir::Task half = lower_typed("MatMul", ir::f16, {{64, 64}, {64, 64}});
  EXPECT_EQ(schedule(half, "cuda:sm_90").rfind("matmul_mma_cuda", 0), 0u);
  EXPECT_FALSE(schedules::matmul_mma_cuda(half, CudaTarget::parse("cuda:sm_75")).has_value());
}

// Split-k: each config with K in three ranges (the last ragged: 80 = 1 + 1 + 0.5 steps of 32)
// in f16 and in two whole ranges in bf16; a transposed B in two ranges.
TEST(MatmulMmaCuda, SplitKMatchesTheCpu) {
  for (schedules::MatmulMmaConfig c : schedules::matmul_mma_space()) {
    for (const auto& [mnk, splits, dtype] : std::vector<std::tuple<Shape, int64_t, ir::DType>>{
             {Shape{70, 88, 80}, 3, ir::f16},
             {Shape{c.block_m, c.block_n, 4 * c.block_k}, 2, ir::bf16}}) {
      c.split_k = splits;
      const std::string what = dtype.name() + " " + c.str() + " on " + shape_str(mnk);
      SCOPED_TRACE(what);
      const ir::Task task = lower_typed("MatMul", dtype, {{mnk[0], mnk[2]}, {mnk[2], mnk[1]}});
      std::optional<ir::Module> scheduled = schedules::matmul_mma_cuda(task, c);
      ASSERT_TRUE(scheduled.has_value());
      ASSERT_EQ(scheduled->functions.size(), 2u);
      expect_emulated_matches_cpu(task, *scheduled, kTarget, what, narrow_rtol(dtype));
    }
  }
  schedules::MatmulMmaConfig c = schedules::matmul_mma_space()[3];
  c.split_k = 2;
  const ir::Task gemm = lower_typed("Gemm", ir::bf16, {{20, 96}, {48, 96}, {48}},
                                    {{"transB", int64_t{1}}, {"alpha", 0.5}});
  expect_emulated_matches_cpu(gemm, *schedules::matmul_mma_cuda(gemm, c), kTarget,
                              "Gemm transB split-k 2", narrow_rtol(ir::bf16));
}

// A B the copies cannot read is staged through registers: a padded convolution's windows (every
// config, and split along K), a strided one, a 14 × 14 image's planes (196 elements: whole
// chunks of four f32 but not of eight f16), rows of 20 (likewise); in f16, bf16 and tf32.
TEST(MatmulMmaCuda, StagesABItsCopiesCannotRead) {
  struct Case {
    OperatorCase op;
    bool copies_in_tf32;  // B's rows are whole chunks of four f32
  };
  const std::vector<Case> cases = {
      {{"Conv", {{1, 16, 10, 10}, {32, 16, 3, 3}, {32}}, {{"pads", Shape{1, 1, 1, 1}}}}, false},
      {{"Conv", {{2, 8, 9, 9}, {16, 8, 1, 1}}, {{"strides", Shape{2, 2}}}}, false},
      {{"Conv", {{1, 16, 14, 14}, {24, 16, 1, 1}}, {}}, true},
      {{"MatMul", {{48, 32}, {32, 20}}, {}}, true},
  };
  for (const ir::DType dtype : {ir::f16, ir::bf16, ir::f32}) {
    const bool tf32 = dtype == ir::f32;
    const double rtol = tf32 ? 5e-3 : narrow_rtol(dtype);
    for (size_t i = 0; i < cases.size(); ++i) {
      const OperatorCase& c = cases[i].op;
      const ir::Task task = lower_typed(c.type, dtype, c.inputs, c.attrs);
      std::vector<ir::Module> modules = {implement_cuda(task, kTarget, {.tf32 = tf32})};
      if (i == 0) {
        for (schedules::MatmulMmaConfig config : schedules::matmul_mma_space())
          modules.push_back(*schedules::matmul_mma_cuda(task, config, tf32));
        schedules::MatmulMmaConfig split = schedules::matmul_mma_space().back();
        split.split_k = 3;
        modules.push_back(*schedules::matmul_mma_cuda(task, split, tf32));
      }
      for (const ir::Module& scheduled : modules) {
        const std::string what = c.type + " " + shape_str(c.inputs[0]) + " " + dtype.name() + ": " +
                                 schedule_of(scheduled);
        SCOPED_TRACE(what);
        EXPECT_EQ(schedule_of(scheduled).rfind("matmul_mma_cuda", 0), 0u);
        EXPECT_EQ(schedule_of(scheduled).find("B staged") != std::string::npos,
                  !(tf32 && cases[i].copies_in_tf32));
        expect_emulated_matches_cpu(task, scheduled, kTarget, what, rtol);
      }
    }
  }
}

// TF32 operands keep 10 mantissa bits (cvt.rna): each product is off by about 2^-11 of itself.
constexpr double kTf32Rtol = 5e-3;

// TF32 (opt-in): f32 contractions through m16n8k8, every config on ragged and whole tiles with B
// along N (two shared loads a lane) and along K (ldmatrix), whole and split along K; without the
// option an f32 contraction is not taken.
TEST(MatmulMmaCuda, Tf32MatchesTheCpuOnEveryConfig) {
  for (schedules::MatmulMmaConfig c : schedules::matmul_mma_space()) {
    const int64_t bk = c.block_k / 2;  // f32 elements of the tile along K
    for (const auto& [mnk, splits] :
         std::vector<std::pair<Shape, int64_t>>{{Shape{70, 92, 52}, 1},
                                                {Shape{c.block_m, c.block_n, 3 * bk}, 1},
                                                {Shape{70, 92, 84}, 3}}) {
      c.split_k = splits;
      const std::string what = "tf32 " + c.str() + " on " + shape_str(mnk);
      SCOPED_TRACE(what);
      const ir::Task task = lower_typed("MatMul", ir::f32, {{mnk[0], mnk[2]}, {mnk[2], mnk[1]}});
      EXPECT_FALSE(schedules::matmul_mma_cuda(task, c).has_value());
      std::optional<ir::Module> scheduled = schedules::matmul_mma_cuda(task, c, /*tf32=*/true);
      ASSERT_TRUE(scheduled.has_value());
      EXPECT_NE(schedule_of(*scheduled)
                    .find("m16n8k8 tf32, " + std::to_string(c.block_m) + "x" +
                          std::to_string(c.block_n) + "x" + std::to_string(bk)),
                std::string::npos)
          << schedule_of(*scheduled);
      expect_emulated_matches_cpu(task, *scheduled, kTarget, what, kTf32Rtol);
    }
  }
  const ir::Task gemm = lower_typed("Gemm", ir::f32, {{20, 36}, {48, 36}, {48}},
                                    {{"transB", int64_t{1}}, {"alpha", 0.5}});
  const ir::Module scheduled = implement_cuda(gemm, kTarget, {.tf32 = true});
  EXPECT_NE(schedule_of(scheduled).find("tf32"), std::string::npos) << schedule_of(scheduled);
  EXPECT_NE(schedule_of(scheduled).find("B along K"), std::string::npos) << schedule_of(scheduled);
  expect_emulated_matches_cpu(gemm, scheduled, kTarget, "tf32 Gemm transB", kTf32Rtol);
}

// The tile is the largest whose blocks fill the SMs, K split into ranges of at least 512 when its
// tiles alone are too few: 4096² takes 128 × 128 whole; a batch-1 transformer projection
// (128 × 768) the smallest tile when K = 64, 64 × 64 in 3 ranges when K = 3072.
TEST(MatmulMmaCuda, TileAndSplitFollowTheSmCount) {
  auto chosen = [](int64_t m, int64_t n, int64_t k) {
    const ir::Task task = lower_typed("MatMul", ir::bf16, {{m, k}, {k, n}});
    auto form = schedules::analyze_gemm(task, schedules::GemmOutputs::any_float);
    return schedules::choose_matmul_mma_config(*form, kTarget);
  };
  EXPECT_EQ(chosen(4096, 4096, 4096).block_m, 128);
  EXPECT_EQ(chosen(4096, 4096, 4096).block_n, 128);
  EXPECT_EQ(chosen(4096, 4096, 4096).split_k, 1);
  EXPECT_EQ(chosen(128, 768, 64).block_n, 32);
  EXPECT_EQ(chosen(128, 768, 64).split_k, 1);
  EXPECT_EQ(chosen(128, 768, 3072).str(), "64x64x32, warps 2x2, 3 stages, split-k 6");
  // 16 rows: 64-row tiles would compute four times the rows, 32-row ones twice: no wider than
  // the smallest tile's rows, the widest columns that fill the SMs.
  EXPECT_EQ(chosen(16, 12544, 32).str(), "32x64x32, warps 1x2, 3 stages");
}

// f16 and bf16 with B along N and K (and f16 split), tf32 likewise, B staged in f16 and tf32:
// NVRTC for sm_80 and sm_90 without warnings.
TEST(MatmulMmaCuda, EveryConfigCompilesForSm80AndSm90WithoutWarnings) {
  std::string why_not;
  if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  std::vector<build::CudaCompileJob> jobs;
  for (const ir::DType dtype : {ir::f16, ir::bf16}) {
    for (const bool trans_b : {false, true}) {
      const ir::Task task =
          trans_b ? lower_typed("Gemm", dtype, {{300, 200}, {504, 200}}, {{"transB", int64_t{1}}})
                  : lower_typed("MatMul", dtype, {{300, 200}, {200, 504}});
      std::vector<schedules::MatmulMmaConfig> configs = schedules::matmul_mma_space();
      if (dtype == ir::f16 && !trans_b) {  // and each split along K
        for (schedules::MatmulMmaConfig split : schedules::matmul_mma_space()) {
          split.split_k = 3;
          configs.push_back(split);
        }
      }
      for (const schedules::MatmulMmaConfig& c : configs) {
        const codegen::CudaSource source = codegen::generate_cuda_source(
            passes::lower(*schedules::matmul_mma_cuda(task, c)), kTarget);
        for (const char* ptx : {"mma_sync", "ldmatrix_x4", "cp_async_16", "cp_async_wait<1>"})
          EXPECT_NE(source.text.find(ptx), std::string::npos) << ptx;
        // Every register tile stays in registers: unrolled, each access a literal index.
        EXPECT_EQ(variable_register_indices(source.text, {"acc", "a_frag", "b_frag"}),
                  std::vector<std::string>{})
            << c.str();
        jobs.push_back({dtype.name() + (trans_b ? " transB " : " ") + c.str(), source.text});
      }
    }
  }
  // TF32, B along N and along K.
  for (const bool trans_b : {false, true}) {
    const ir::Task task =
        trans_b ? lower_typed("Gemm", ir::f32, {{300, 200}, {504, 200}}, {{"transB", int64_t{1}}})
                : lower_typed("MatMul", ir::f32, {{300, 200}, {200, 504}});
    for (const schedules::MatmulMmaConfig& c : schedules::matmul_mma_space()) {
      const codegen::CudaSource source = codegen::generate_cuda_source(
          passes::lower(*schedules::matmul_mma_cuda(task, c, /*tf32=*/true)), kTarget);
      EXPECT_NE(source.text.find("mma_sync"), std::string::npos);
      EXPECT_EQ(variable_register_indices(source.text, {"acc", "a_frag", "b_frag"}),
                std::vector<std::string>{})
          << c.str();
      jobs.push_back({std::string("tf32") + (trans_b ? " transB " : " ") + c.str(), source.text});
    }
  }
  // B staged (a padded convolution's windows), f16 and tf32.
  for (const ir::DType dtype : {ir::f16, ir::f32}) {
    const ir::Task conv = lower_typed("Conv", dtype, {{1, 64, 28, 28}, {64, 64, 3, 3}},
                                      {{"pads", Shape{1, 1, 1, 1}}});
    for (const schedules::MatmulMmaConfig& c : schedules::matmul_mma_space()) {
      const codegen::CudaSource source = codegen::generate_cuda_source(
          passes::lower(*schedules::matmul_mma_cuda(conv, c, dtype == ir::f32)), kTarget);
      EXPECT_EQ(variable_register_indices(source.text, {"acc", "a_frag", "b_frag", "b_regs"}),
                std::vector<std::string>{})
          << c.str();
      jobs.push_back({dtype.name() + " staged conv " + c.str(), source.text});
    }
  }
  expect_cubins_without_warnings(jobs);
}

}  // namespace
}  // namespace taskmap::testing
