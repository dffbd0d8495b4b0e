#pragma once
// The base of the tests that run kernels on a GPU: each skips, saying why, where there is no
// NVRTC or no CUDA device; otherwise target_ is device 0's.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "taskmap/build/cuda_compiler.h"
#include "taskmap/target.h"

namespace taskmap::testing {

class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << "no NVRTC: " << why_not;
    std::optional<CudaTarget> device = CudaTarget::device(0, &why_not);
    if (!device) GTEST_SKIP() << "no CUDA device: " << why_not;
    target_ = *device;
  }

  CudaTarget target_;
};

}  // namespace taskmap::testing
