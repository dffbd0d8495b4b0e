// `taskmap target`: this machine's targets, a given target resolved with every field, and a bad
// target as a one-line error with a non-zero exit; the model commands' --target.
#include <gtest/gtest.h>

#include <string>

#include "errors/cli_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/target.h"

namespace {

using taskmap::testing::run_cli;

TEST(TargetCli, ShowsTheHostTheDeviceAndNvrtc) {
  auto r = run_cli("target");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("cpu   cpu:"), std::string::npos) << r.output;
  // A device's figures, or why there is none; the same for NVRTC.
  EXPECT_NE(r.output.find("cuda  "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nvrtc "), std::string::npos) << r.output;
}

TEST(TargetCli, ResolvesAGivenTarget) {
  auto cuda = run_cli("target cuda:sm_80");
  ASSERT_EQ(cuda.status, 0) << cuda.output;
  EXPECT_NE(cuda.output.find("cuda:sm_80,sms=108,smem=163k,regs=65536"), std::string::npos)
      << cuda.output;
  auto cpu = run_cli("target cpu:avx2,cores=3");
  ASSERT_EQ(cpu.status, 0) << cpu.output;
  EXPECT_NE(cpu.output.find("cpu:avx2,cores=3,"), std::string::npos) << cpu.output;
  EXPECT_NE(cpu.output.find("-march=x86-64-v3"), std::string::npos) << cpu.output;
}

TEST(TargetCli, BadTargetsAreErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"target cuda:sm_70", "older than NVRTC can build for"},
      {"target cuda:sm_90,smem=lots", "bad value in 'smem=lots'"},
      {"target gpu", "a target starts with 'cpu' or 'cuda'"},
      {"target cpu:avx9", "unknown part 'avx9'"},
  };
  for (const auto& [args, expected] : cases) {
    auto r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
  }
}

// run / bench / inspect take --target: a CUDA architecture compiles without a GPU (running then
// says there is no device), a bad target or an ISA the CPU lacks is a one-line error.
TEST(TargetCli, ModelCommandsTakeATarget) {
  const std::string model = taskmap::testing::temp_dir() + "/mobilenet_v2.onnx";
  ASSERT_EQ(run_cli("export mobilenet_v2 -o " + model).status, 0);
  const std::pair<std::string, std::string> bad[] = {
      {"run " + model + " --target gpu", "a target starts with 'cpu' or 'cuda'"},
      {"bench " + model + " --target cpu:avx9", "unknown part 'avx9'"},
      {"run " + model + " --target cuda:sm_70", "older than NVRTC can build for"},
  };
  for (const auto& [args, expected] : bad) {
    auto r = run_cli(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
  }
  if (taskmap::CpuTarget::host().isa < taskmap::CpuTarget::Isa::avx512) {
    auto r = run_cli("run " + model + " --target cpu:avx512");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("code at most"), std::string::npos) << r.output;
  }

  if (!taskmap::build::nvrtc_available()) GTEST_SKIP() << "no NVRTC: CUDA targets not checked";
  auto inspect = run_cli("inspect " + model + " --target cuda:sm_90 --kernels");
  EXPECT_EQ(inspect.status, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("[auto]"), std::string::npos) << inspect.output;
  auto run = run_cli("run " + model + " --target cuda:sm_90");
  if (taskmap::CudaTarget::device(0)) {
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("output 0"), std::string::npos) << run.output;
  } else {
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_NE(run.output.find("compiled  "), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("no CUDA device to run on"), std::string::npos) << run.output;
  }
}

}  // namespace
