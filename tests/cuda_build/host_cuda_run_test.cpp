// CUDA kernels run on the host emulator (host_cuda_support.h) against the CPU backend: the
// emulator itself (barriers, shared memory, shuffles, atomics: the block sum), the
// auto-scheduler (its elementwise groups several consecutive elements a thread) and the
// warp-per-row templates on ONNX operators. Needs a host compiler only.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda_build/cuda_kernels_support.h"
#include "cuda_build/host_cuda_support.h"
#include "ops/ops_support.h"
#include "taskmap/compile.h"

namespace taskmap::testing {
namespace {

const CudaTarget kTarget = CudaTarget::parse("cuda:sm_90");

void expect_operator_matches_cpu(const OperatorCase& c) {
  SCOPED_TRACE(c.type);
  const ir::Task task = lower_op(c.type, c.inputs, c.attrs);
  expect_emulated_matches_cpu(task, implement_cuda(task, kTarget), kTarget, c.type);
}

TEST(HostCudaRun, BlockSumUsesBarriersSharedMemoryShufflesAndAtomics) {
  constexpr int64_t n = 3000;  // 12 blocks, the last one partly idle
  const std::vector<float> x = random_data(n);
  float sum = 0;
  run_cuda_on_host(ir::Module{"block_sum", {block_sum_kernel(n)}}, kTarget,
                   {const_cast<float*>(x.data()), &sum});
  double expected = 0, magnitude = 0;
  for (float v : x) expected += v, magnitude += std::fabs(v);
  EXPECT_NEAR(sum, expected, 1e-5 * magnitude);
}

TEST(HostCudaRun, AutoScheduledAndWarpPerRowKernelsMatchTheCpu) {
  for (const OperatorCase& c : std::vector<OperatorCase>{
           {"Add", {{2, 3, 33}, {33}}, {}},
           {"Softmax", {{13, 70}}, {{"axis", int64_t{1}}}},
           {"ReduceMean", {{9, 100}}, {{"axes", Shape{1}}}},
           {"ReduceMax", {{9, 100}}, {{"axes", Shape{1}}}},
           {"LayerNormalization", {{4, 64}, {64}, {64}}, {{"axis", int64_t{-1}}}},
           // Rows of several dimensions, ragged against the warp; epsilon and scale broadcast.
           {"LayerNormalization",
            {{2, 5, 100}, {100}, {1}},
            {{"axis", int64_t{-1}}, {"epsilon", 0.25}}},
           {"LayerNormalization", {{3, 40}, {40}}, {{"axis", int64_t{1}}}},
           {"LogSoftmax", {{7, 45}}, {{"axis", int64_t{-1}}}},
           {"Softmax", {{3, 2, 5}}, {{"axis", int64_t{2}}}},  // rows shorter than a warp
       })
    expect_operator_matches_cpu(c);
}

// Outputs that do not reduce give each thread the consecutive elements that fill 16 bytes (as
// many as divide the innermost extent): a broadcast add (4 a thread), a transpose (2), a concat
// (4), an i64 add (2), an f16 transpose (2) and concat (8); one element where the extent is
// odd, or the value computes on f16 / bf16.
TEST(HostCudaRun, ElementwiseGroupsTakeConsecutiveElementsAThread) {
  struct Case {
    std::string type;
    ir::DType dtype;
    std::vector<Shape> inputs;
    std::map<std::string, graph::AttrValue> attrs;
    int64_t per_thread;
  };
  const std::vector<Case> cases = {
      {"Add", ir::f32, {{3, 5, 32}, {32}}, {}, 4},
      {"Transpose", ir::f32, {{4, 6, 8}}, {{"perm", Shape{2, 0, 1}}}, 2},
      {"Concat", ir::f32, {{3, 4}, {3, 8}}, {{"axis", int64_t{1}}}, 4},
      {"Add", ir::i64, {{3, 40}, {3, 40}}, {}, 2},
      {"Mul", ir::f32, {{2, 33}, {33}}, {}, 1},
      {"Add", ir::f16, {{3, 40}, {3, 40}}, {}, 1},
      {"Transpose", ir::f16, {{4, 6, 8}}, {{"perm", Shape{2, 0, 1}}}, 2},
      {"Concat", ir::bf16, {{3, 8}, {3, 8}}, {{"axis", int64_t{1}}}, 8},
  };
  for (const Case& c : cases) {
    const std::string what = c.type + " " + c.dtype.name();
    SCOPED_TRACE(what);
    const ir::Task task = lower_typed(c.type, c.dtype, c.inputs, c.attrs);
    const ir::Module scheduled = implement_cuda(task, kTarget);
    const std::string schedule = scheduled.functions.at(0)->attrs.at("schedule");
    EXPECT_EQ(schedule, c.per_thread == 1
                            ? std::string("auto")
                            : "auto (" + std::to_string(c.per_thread) + " elements a thread)");
    expect_emulated_matches_cpu(
        task, scheduled, kTarget, what,
        c.dtype == ir::f16 || c.dtype == ir::bf16 ? narrow_rtol(c.dtype) : 1e-5);
  }
}

}  // namespace
}  // namespace taskmap::testing
