// `taskmap target`: this machine's targets, a given target resolved with every field, and a bad
// target as a one-line error with a non-zero exit.
#include <gtest/gtest.h>

#include <string>

#include "errors/cli_support.h"

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

}  // namespace
