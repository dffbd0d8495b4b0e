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
  using Result = int;                    // CUresult: 0 is CUDA_SUCCESS
  using Device = int;                    // CUdevice
  using Context = void*;                 // CUcontext
  using Module = void*;                  // CUmodule
  using Function = void*;                // CUfunction
  using Stream = void*;                  // CUstream (nullptr: the default stream)
  using DevicePtr = unsigned long long;  // CUdeviceptr
  using Graph = void*;                   // CUgraph
  using GraphExec = void*;               // CUgraphExec
  using Event = void*;                   // CUevent

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
  // Contexts, modules, launches and memory (the _v2 entry points: 64-bit sizes and pointers).
  Result (*cuDevicePrimaryCtxRetain)(Context* context, Device device) = nullptr;
  Result (*cuCtxSetCurrent)(Context context) = nullptr;
  Result (*cuCtxSynchronize)() = nullptr;
  Result (*cuModuleLoadData)(Module* module, const void* image) = nullptr;
  Result (*cuModuleUnload)(Module module) = nullptr;
  Result (*cuModuleGetFunction)(Function* function, Module module, const char* name) = nullptr;
  Result (*cuModuleGetGlobal)(DevicePtr* pointer, size_t* bytes, Module module,
                              const char* name) = nullptr;
  Result (*cuLaunchKernel)(Function function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                           unsigned block_x, unsigned block_y, unsigned block_z,
                           unsigned shared_bytes, Stream stream, void** params,
                           void** extra) = nullptr;
  Result (*cuMemAlloc)(DevicePtr* pointer, size_t bytes) = nullptr;
  Result (*cuMemFree)(DevicePtr pointer) = nullptr;
  Result (*cuMemcpyHtoD)(DevicePtr to, const void* from, size_t bytes) = nullptr;
  Result (*cuMemcpyDtoH)(void* to, DevicePtr from, size_t bytes) = nullptr;
  Result (*cuMemsetD32)(DevicePtr to, unsigned value, size_t count) = nullptr;
  // Streams and CUDA graphs (captured from a stream, replayed as one launch).
  Result (*cuStreamCreate)(Stream* stream, unsigned flags) = nullptr;
  Result (*cuStreamDestroy)(Stream stream) = nullptr;
  Result (*cuStreamSynchronize)(Stream stream) = nullptr;
  Result (*cuMemcpyHtoDAsync)(DevicePtr to, const void* from, size_t bytes,
                              Stream stream) = nullptr;
  Result (*cuMemcpyDtoHAsync)(void* to, DevicePtr from, size_t bytes, Stream stream) = nullptr;
  Result (*cuStreamBeginCapture)(Stream stream, int mode) = nullptr;
  Result (*cuStreamEndCapture)(Stream stream, Graph* graph) = nullptr;
  Result (*cuGraphInstantiate)(GraphExec* exec, Graph graph, unsigned long long flags) = nullptr;
  Result (*cuGraphLaunch)(GraphExec exec, Stream stream) = nullptr;
  Result (*cuGraphExecDestroy)(GraphExec exec) = nullptr;
  Result (*cuGraphDestroy)(Graph graph) = nullptr;
  Result (*cuFuncSetAttribute)(Function function, int attribute, int value) = nullptr;
  // Events: the device's own clock between two points of a stream.
  Result (*cuEventCreate)(Event* event, unsigned flags) = nullptr;
  Result (*cuEventRecord)(Event event, Stream stream) = nullptr;
  Result (*cuEventElapsedTime)(float* ms, Event start, Event end) = nullptr;
  Result (*cuEventDestroy)(Event event) = nullptr;

  // CUstreamCaptureMode: only this thread's calls are checked while it captures.
  static constexpr int kCaptureThreadLocal = 1;
  // CUfunction_attribute: the dynamic shared memory a kernel may be launched with (past 48 KiB
  // a kernel must opt in).
  static constexpr int kMaxDynamicSharedBytes = 8;

  // The driver, loaded and initialized once per process (thread-safe); nullptr when there is no
  // driver library or cuInit fails, with the reason in *why_not when given.
  static const CudaDriver* get(std::string* why_not = nullptr);

  // "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"-like text for a result.
  std::string error_text(Result result) const;
  // A UserError "<what>: <error_text>" unless `result` is success.
  void check(Result result, const std::string& what) const;
};

}  // namespace taskmap::runtime
