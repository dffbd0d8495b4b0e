// CudaTarget: the text form (presets per architecture, overrides, round trip), its errors, and
// reading a device (present or not, the answer is a target or a reason, never a crash).
#include <gtest/gtest.h>

#include "taskmap/error.h"
#include "taskmap/target.h"

namespace taskmap {
namespace {

TEST(CudaTarget, ArchitectureNamesTheUsualPart) {
  CudaTarget h100 = CudaTarget::parse("cuda:sm_90");
  EXPECT_EQ(h100.sm, 90);
  EXPECT_FALSE(h100.arch_specific);
  EXPECT_EQ(h100.sm_count, 132);
  EXPECT_EQ(h100.shared_per_block, 227 * 1024);
  EXPECT_EQ(h100.registers_per_block, 65536);
  EXPECT_EQ(h100.arch(), "sm_90");
  EXPECT_EQ(h100.str(), "cuda:sm_90,sms=132,smem=227k,regs=65536");

  CudaTarget a100 = CudaTarget::parse("cuda:sm_80");
  EXPECT_EQ(a100.sm_count, 108);
  EXPECT_EQ(a100.shared_per_block, 163 * 1024);
  // An architecture without a part of its own takes the one before it (sm_87 -> sm_86's).
  EXPECT_EQ(CudaTarget::parse("cuda:sm_87").shared_per_block, 99 * 1024);
  EXPECT_EQ(CudaTarget::parse("cuda:sm_87").sm, 87);

  CudaTarget wgmma = CudaTarget::parse("cuda:sm_90a");
  EXPECT_TRUE(wgmma.arch_specific);
  EXPECT_EQ(wgmma.arch(), "sm_90a");
}

TEST(CudaTarget, GivenFieldsOverrideAndTheTextRoundTrips) {
  CudaTarget t = CudaTarget::parse("cuda:sm_80,sms=7,smem=100000,regs=32768");
  EXPECT_EQ(t.sm_count, 7);
  EXPECT_EQ(t.shared_per_block, 100000);
  EXPECT_EQ(t.registers_per_block, 32768);
  for (const char* text : {"cuda:sm_75", "cuda:sm_80,sms=7,smem=100000,regs=32768",
                           "cuda:sm_90a,smem=1m", "cuda:sm_120"}) {
    CudaTarget parsed = CudaTarget::parse(text);
    EXPECT_EQ(CudaTarget::parse(parsed.str()), parsed) << text << " -> " << parsed.str();
  }
}

TEST(CudaTarget, MalformedTextsAreUserErrorsNamingTheText) {
  const std::pair<const char*, const char*> cases[] = {
      {"gpu:sm_90", "must start with 'cuda'"},
      {"cuda;sm_90", "expected cuda"},
      {"cuda:90", "'90' is not an architecture"},
      {"cuda:sm_", "is not an architecture"},
      {"cuda:sm_9x", "is not an architecture"},
      {"cuda:sm_70", "older than NVRTC can build for"},
      {"cuda:sm_90,sms=0", "bad value in 'sms=0'"},
      {"cuda:sm_90,regs=4k", "bad value in 'regs=4k'"},
      {"cuda:sm_90,cores=4", "unknown key 'cores'"},
      {"cuda:sm_90,fast", "unknown part 'fast'"},
      {"cuda:sm_90,", "unknown part ''"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      CudaTarget::parse(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const UserError& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(text), std::string::npos) << message;
      EXPECT_NE(message.find(expected), std::string::npos) << text << ": " << message;
    }
  }
}

TEST(CudaTarget, DeviceIsATargetOrAReason) {
  std::string why_not;
  std::optional<CudaTarget> device = CudaTarget::device(0, &why_not);
  if (device.has_value()) {
    EXPECT_GE(device->sm, 75);
    EXPECT_GT(device->sm_count, 0);
    EXPECT_GE(device->shared_per_block, 48 * 1024);
    EXPECT_EQ(device->warp_size, 32);
    EXPECT_EQ(CudaTarget::parse("cuda"), *device);
  } else {
    EXPECT_FALSE(why_not.empty());
    // "cuda" alone means this device; without one it says how to build anyway.
    try {
      CudaTarget::parse("cuda");
      ADD_FAILURE() << "'cuda' parsed without a device";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("--target cuda:sm_90"), std::string::npos) << e.what();
    }
  }
  std::string no_such;
  EXPECT_FALSE(CudaTarget::device(1000, &no_such).has_value());
  EXPECT_FALSE(no_such.empty());
}

}  // namespace
}  // namespace taskmap
