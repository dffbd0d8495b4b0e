// CudaTarget: the text form "cuda:sm_90,sms=132,smem=227k,regs=65536", the figures of each
// architecture's usual part, and reading a device through the driver.
// Requires: nothing (the driver is optional). Guarantees: parse(t.str()) == t for every target t;
// device() never throws.
#include <array>

#include "build/target_text.h"
#include "taskmap/error.h"
#include "taskmap/runtime/cuda_driver.h"
#include "taskmap/target.h"

namespace taskmap {
namespace {

constexpr std::string_view kSyntax =
    "expected cuda[:sm_<XY>[a]][,sms=<n>][,smem=<bytes>][,regs=<n>], e.g. cuda:sm_90 or "
    "cuda:sm_80,sms=108,smem=163k (an architecture of sm_75 or newer)";

// The oldest architecture NVRTC of CUDA 13 compiles for.
constexpr int kOldestSm = 75;

// The usual data-center (or, where there is none, the common) part of each architecture: what
// "cuda:sm_XY" means when the other fields are not given. Shared memory is the opt-in limit per
// block (cudaDevAttrMaxSharedMemoryPerBlockOptin).
struct Part {
  int sm;
  const char* name;
  int sm_count;
  int64_t shared_per_block;
};
constexpr std::array<Part, 7> kParts = {{
    {75, "T4", 40, 64 * 1024},
    {80, "A100", 108, 163 * 1024},
    {86, "A10", 72, 99 * 1024},
    {89, "L40S", 142, 99 * 1024},
    {90, "H100 SXM", 132, 227 * 1024},
    {100, "B200", 148, 227 * 1024},
    {120, "RTX 5090", 170, 99 * 1024},
}};

// The part of `sm`, or of the newest architecture before it that has one.
const Part& part_for(int sm) {
  const Part* best = &kParts.front();
  for (const Part& p : kParts)
    if (p.sm <= sm) best = &p;
  return *best;
}

CudaTarget preset(int sm, bool arch_specific) {
  const Part& part = part_for(sm);
  CudaTarget t;
  t.sm = sm;
  t.arch_specific = arch_specific;
  t.sm_count = part.sm_count;
  t.shared_per_block = part.shared_per_block;
  return t;
}

// "sm_90" / "sm_90a" -> (90, false) / (90, true); false when the text is not one.
bool parse_arch(std::string_view text, int* sm, bool* arch_specific) {
  if (text.substr(0, 3) != "sm_") return false;
  text.remove_prefix(3);
  *arch_specific = !text.empty() && text.back() == 'a';
  if (*arch_specific) text.remove_suffix(1);
  int64_t value = build::parse_count(text, false);
  if (value < 10 || value > 999) return false;
  *sm = static_cast<int>(value);
  return true;
}

}  // namespace

std::string CudaTarget::arch() const {
  return "sm_" + std::to_string(sm) + (arch_specific ? "a" : "");
}

std::string CudaTarget::str() const {
  return "cuda:" + arch() + ",sms=" + std::to_string(sm_count) +
         ",smem=" + build::size_text(shared_per_block) +
         ",regs=" + std::to_string(registers_per_block);
}

std::optional<CudaTarget> CudaTarget::device(int ordinal, std::string* why_not) {
  std::string reason;
  const runtime::CudaDriver* d = runtime::CudaDriver::get(&reason);
  auto fail = [&](std::string text) -> std::optional<CudaTarget> {
    if (why_not != nullptr) *why_not = std::move(text);
    return std::nullopt;
  };
  if (d == nullptr) return fail(reason);
  int count = 0;
  runtime::CudaDriver::Result result = d->cuDeviceGetCount(&count);
  if (result != 0) return fail("cannot count CUDA devices: " + d->error_text(result));
  if (ordinal < 0 || ordinal >= count) {
    return fail(count == 0 ? std::string("no CUDA device")
                           : "no CUDA device " + std::to_string(ordinal) + " (there are " +
                                 std::to_string(count) + ")");
  }
  runtime::CudaDriver::Device device = 0;
  result = d->cuDeviceGet(&device, ordinal);
  if (result != 0) return fail("cannot open CUDA device: " + d->error_text(result));
  auto attribute = [&](int which, int* value) {
    runtime::CudaDriver::Result r = d->cuDeviceGetAttribute(value, which, device);
    if (r != 0 && reason.empty())
      reason = "cannot read attribute " + std::to_string(which) + ": " + d->error_text(r);
  };
  int major = 0, minor = 0, sms = 0, shared = 0, registers = 0, threads = 0, warp = 0;
  attribute(runtime::CudaDriver::kComputeCapabilityMajor, &major);
  attribute(runtime::CudaDriver::kComputeCapabilityMinor, &minor);
  attribute(runtime::CudaDriver::kMultiprocessorCount, &sms);
  attribute(runtime::CudaDriver::kMaxSharedMemoryPerBlockOptin, &shared);
  attribute(runtime::CudaDriver::kMaxRegistersPerBlock, &registers);
  attribute(runtime::CudaDriver::kMaxThreadsPerBlock, &threads);
  attribute(runtime::CudaDriver::kWarpSize, &warp);
  if (!reason.empty()) return fail(reason);
  CudaTarget t;
  t.sm = major * 10 + minor;
  t.sm_count = sms;
  t.shared_per_block = shared;
  t.registers_per_block = registers;
  t.max_threads_per_block = threads;
  t.warp_size = warp;
  return t;
}

CudaTarget CudaTarget::parse(std::string_view text) {
  const std::string whole(text);
  TM_USER_CHECK(text.substr(0, 4) == "cuda")
      << "bad CUDA target '" << whole << "': it must start with 'cuda'; " << kSyntax;
  std::string_view rest = text.substr(4);
  if (rest.empty()) {
    std::string why_not;
    std::optional<CudaTarget> found = device(0, &why_not);
    TM_USER_CHECK(found.has_value())
        << "target 'cuda' means the first CUDA device, and there is none here (" << why_not
        << "); name the architecture to build without one, e.g. --target cuda:sm_90";
    return *found;
  }
  TM_USER_CHECK(rest.front() == ':') << "bad CUDA target '" << whole << "': " << kSyntax;
  rest.remove_prefix(1);
  std::vector<std::string_view> parts = build::split_parts(rest);
  int sm = 0;
  bool arch_specific = false;
  TM_USER_CHECK(parse_arch(parts.front(), &sm, &arch_specific))
      << "bad CUDA target '" << whole << "': '" << parts.front() << "' is not an architecture; "
      << kSyntax;
  TM_USER_CHECK(sm >= kOldestSm) << "bad CUDA target '" << whole << "': " << parts.front()
                                 << " is older than NVRTC can build for (sm_" << kOldestSm
                                 << " is the oldest)";
  CudaTarget target = preset(sm, arch_specific);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t eq = part.find('=');
    TM_USER_CHECK(eq != std::string_view::npos)
        << "bad CUDA target '" << whole << "': unknown part '" << part << "'; " << kSyntax;
    std::string_view key = part.substr(0, eq);
    int64_t count = build::parse_count(part.substr(eq + 1), key == "smem");
    TM_USER_CHECK(count > 0 && count <= (int64_t{1} << 31) - 1)
        << "bad CUDA target '" << whole << "': bad value in '" << part << "'; " << kSyntax;
    if (key == "sms") {
      target.sm_count = static_cast<int>(count);
    } else if (key == "smem") {
      target.shared_per_block = count;
    } else if (key == "regs") {
      target.registers_per_block = static_cast<int>(count);
    } else {
      TM_USER_ERROR() << "bad CUDA target '" << whole << "': unknown key '" << key << "'; "
                      << kSyntax;
    }
  }
  return target;
}

}  // namespace taskmap
