// The performance-facing CLI: `inspect --kernels` lists fused kernels, `--no-fuse` turns fusion
// off, `--precision` narrows the float operators, `bench --profile N` names the slowest kernels,
// and bad values for these options are one-line errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "errors/cli_support.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/graph/builder.h"

namespace {

using taskmap::testing::run_cli;
namespace graph = taskmap::graph;
namespace ir = taskmap::ir;

// y = relu(conv(x) + bias) + x: one convolution whose bias add, relu and residual add fuse.
std::string conv_model() {
  graph::GraphBuilder b("conv_block", /*seed=*/3);
  graph::Tensor x = b.input("x", ir::f32, graph::to_shape({1, 8, 10, 10}));
  graph::Tensor y = b.conv2d(x, b.weight({8, 8, 3, 3}), nullptr, {.pads = {1, 1, 1, 1}});
  y = b.add(b.relu(b.add(y, b.weight({1, 8, 1, 1}, 1.0))), x);
  b.output(y, "y");
  std::string path = taskmap::testing::temp_dir() + "/conv_block.onnx";
  taskmap::onnx::save_model(b.build(), path);
  return path;
}

// `result` exited 0 and printed each of `wanted`.
void expect_success_printing(const taskmap::testing::CliResult& result,
                             const std::vector<std::string>& wanted) {
  ASSERT_EQ(result.status, 0) << result.output;
  for (const std::string& w : wanted)
    EXPECT_NE(result.output.find(w), std::string::npos) << w << " in:\n" << result.output;
}

TEST(PerfCli, InspectListsFusedKernels) {
  std::string model = conv_model();
  auto fused = run_cli("inspect " + model + " --kernels");
  ASSERT_EQ(fused.status, 0) << fused.output;
  EXPECT_NE(fused.output.find("4 operators after constant folding, 1 kernels"), std::string::npos)
      << fused.output;
  EXPECT_NE(fused.output.find("Conv '"), std::string::npos) << fused.output;
  EXPECT_NE(fused.output.find("+ Relu '"), std::string::npos) << fused.output;
  EXPECT_NE(fused.output.find("gemm_cpu"), std::string::npos) << fused.output;

  auto unfused = run_cli("inspect " + model + " --no-fuse");
  ASSERT_EQ(unfused.status, 0) << unfused.output;
  EXPECT_NE(unfused.output.find("4 operators after constant folding, 4 kernels"), std::string::npos)
      << unfused.output;
  EXPECT_NE(unfused.output.find("0 of 4 kernels run more than one operator (--no-fuse)"),
            std::string::npos)
      << unfused.output;
}

TEST(PerfCli, BenchProfileNamesTheKernels) {
  std::string model = conv_model();
  expect_success_printing(
      run_cli("bench " + model + " --threads 1 --warmup 0 --repeat 2 --profile 5"),
      {"kernels   1, ", "100.0%  Conv '"});
  // The compile progress goes to stderr and does not mix into --json's line.
  auto json = run_cli("bench " + model + " --threads 1 --warmup 0 --repeat 2 --json 2>/dev/null");
  ASSERT_EQ(json.status, 0) << json.output;
  EXPECT_EQ(json.output.rfind("{\"median_ms\": ", 0), 0u) << json.output;
}

// --precision bf16: the plan says so, an input Cast leads the first kernel, and `run` still
// prints f32 outputs; an unknown precision, and --tf32 on the CPU, are one-line errors.
TEST(PerfCli, PrecisionNarrowsTheFloatOperators) {
  std::string model = conv_model();
  expect_success_printing(run_cli("inspect " + model + " --kernels --precision bf16"),
                          {"precision bf16", "Cast 'x_bf16'"});
  expect_success_printing(run_cli("run " + model + " --threads 1 --precision bf16"),
                          {"'y' f32[1, 8, 10, 10]", "note: --precision bf16 on the CPU"});
  for (const char* bad_option : {"--precision f8", "--tf32"}) {  // tf32: CUDA only
    auto bad = run_cli("run " + model + " " + bad_option);
    EXPECT_NE(bad.status, 0) << bad.output;
    EXPECT_NE(bad.output.find(std::string(bad_option).substr(0, 6)), std::string::npos)
        << bad.output;
  }
}

TEST(PerfCli, BadProfileCountIsAnError) {
  auto result = run_cli("bench " + conv_model() + " --profile 0");
  EXPECT_NE(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("--profile"), std::string::npos) << result.output;
}

}  // namespace
