#pragma once
// The CUDA driver API, loaded when first asked for (dlopen of libcuda.so.1), never linked:
// taskmap builds and runs on machines with no GPU and no driver, and only the CUDA path needs
// one. Part of the runtime library: a compiled CUDA model loads its cubins through it.
//
// Only the entry points taskmap calls are declared, with the driver's C signatures (handles as
// opaque pointers, CUresult as int). The attribute numbers are the driver API's
// CU_DEVICE_ATTRIBUTE_* values.
#include <string>

namespace taskmap::runtime {

struct CudaDriver {
  using Result = int;  // CUresult: 0 is CUDA_SUCCESS
  using Device = int;  // CUdevice

  enum Attribute : int {
    kMaxThreadsPerBlock = 1,
    kWarpSize = 10,
    kMaxRegistersPerBlock = 12,
    kMultiprocessorCount = 16,
    kComputeCapabilityMajor = 75,
    kComputeCapabilityMinor = 76,
    kMaxSharedMemoryPerBlockOptin = 97,
  };

  Result (*cuInit)(unsigned flags) = nullptr;
  Result (*cuDriverGetVersion)(int* version) = nullptr;
  Result (*cuDeviceGetCount)(int* count) = nullptr;
  Result (*cuDeviceGet)(Device* device, int ordinal) = nullptr;
  Result (*cuDeviceGetAttribute)(int* value, int attribute, Device device) = nullptr;
  Result (*cuDeviceGetName)(char* name, int length, Device device) = nullptr;
  Result (*cuGetErrorString)(Result result, const char** text) = nullptr;

  // The driver, loaded and initialized once per process (thread-safe); nullptr when there is no
  // driver library or cuInit fails, with the reason in *why_not when given.
  static const CudaDriver* get(std::string* why_not = nullptr);

  // "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"-like text for a result.
  std::string error_text(Result result) const;
};

}  // namespace taskmap::runtime
