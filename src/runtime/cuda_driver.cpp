// CudaDriver: dlopen of the driver library and cuInit, once per process.
// Requires: nothing at build time (no CUDA headers). Guarantees: get() never throws; a machine
// without a driver gets nullptr and a reason that says so.
#include "taskmap/runtime/cuda_driver.h"

#include <dlfcn.h>

#include <mutex>

#include "taskmap/error.h"

namespace taskmap::runtime {
namespace {

struct Loaded {
  CudaDriver driver;
  bool ok = false;
  std::string why_not;
};

template <typename Fn>
bool bind(void* handle, const char* name, Fn* slot, std::string* why_not) {
  *slot = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*slot == nullptr) *why_not = std::string("the CUDA driver has no ") + name;
  return *slot != nullptr;
}

Loaded load() {
  Loaded out;
  // libcuda.so.1 is the name the driver package installs; the unversioned name exists only with
  // development files (and the toolkit's stubs/libcuda.so, which loads but has no device).
  void* handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    // dlerror() names the file itself: "libcuda.so.1: cannot open shared object file: ...".
    out.why_not = std::string("no CUDA driver (") +
                  (error != nullptr ? error : "cannot load libcuda.so.1") + ")";
    return out;
  }
  CudaDriver& d = out.driver;
  if (!bind(handle, "cuInit", &d.cuInit, &out.why_not) ||
      !bind(handle, "cuDriverGetVersion", &d.cuDriverGetVersion, &out.why_not) ||
      !bind(handle, "cuDeviceGetCount", &d.cuDeviceGetCount, &out.why_not) ||
      !bind(handle, "cuDeviceGet", &d.cuDeviceGet, &out.why_not) ||
      !bind(handle, "cuDeviceGetAttribute", &d.cuDeviceGetAttribute, &out.why_not) ||
      !bind(handle, "cuDeviceGetName", &d.cuDeviceGetName, &out.why_not) ||
      !bind(handle, "cuGetErrorString", &d.cuGetErrorString, &out.why_not) ||
      !bind(handle, "cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain, &out.why_not) ||
      !bind(handle, "cuCtxSetCurrent", &d.cuCtxSetCurrent, &out.why_not) ||
      !bind(handle, "cuCtxSynchronize", &d.cuCtxSynchronize, &out.why_not) ||
      !bind(handle, "cuModuleLoadData", &d.cuModuleLoadData, &out.why_not) ||
      !bind(handle, "cuModuleUnload", &d.cuModuleUnload, &out.why_not) ||
      !bind(handle, "cuModuleGetFunction", &d.cuModuleGetFunction, &out.why_not) ||
      // The unsuffixed names of these are the 32-bit API of CUDA 3.1 and older.
      !bind(handle, "cuModuleGetGlobal_v2", &d.cuModuleGetGlobal, &out.why_not) ||
      !bind(handle, "cuLaunchKernel", &d.cuLaunchKernel, &out.why_not) ||
      !bind(handle, "cuMemAlloc_v2", &d.cuMemAlloc, &out.why_not) ||
      !bind(handle, "cuMemFree_v2", &d.cuMemFree, &out.why_not) ||
      !bind(handle, "cuMemcpyHtoD_v2", &d.cuMemcpyHtoD, &out.why_not) ||
      !bind(handle, "cuMemcpyDtoH_v2", &d.cuMemcpyDtoH, &out.why_not) ||
      !bind(handle, "cuMemsetD32_v2", &d.cuMemsetD32, &out.why_not) ||
      !bind(handle, "cuStreamCreate", &d.cuStreamCreate, &out.why_not) ||
      !bind(handle, "cuStreamDestroy_v2", &d.cuStreamDestroy, &out.why_not) ||
      !bind(handle, "cuStreamSynchronize", &d.cuStreamSynchronize, &out.why_not) ||
      !bind(handle, "cuMemcpyHtoDAsync_v2", &d.cuMemcpyHtoDAsync, &out.why_not) ||
      !bind(handle, "cuMemcpyDtoHAsync_v2", &d.cuMemcpyDtoHAsync, &out.why_not) ||
      !bind(handle, "cuStreamBeginCapture_v2", &d.cuStreamBeginCapture, &out.why_not) ||
      !bind(handle, "cuStreamEndCapture", &d.cuStreamEndCapture, &out.why_not) ||
      // CUDA 11.4 and later; the unsuffixed cuGraphInstantiate has another signature.
      !bind(handle, "cuGraphInstantiateWithFlags", &d.cuGraphInstantiate, &out.why_not) ||
      !bind(handle, "cuGraphLaunch", &d.cuGraphLaunch, &out.why_not) ||
      !bind(handle, "cuGraphExecDestroy", &d.cuGraphExecDestroy, &out.why_not) ||
      !bind(handle, "cuGraphDestroy", &d.cuGraphDestroy, &out.why_not) ||
      !bind(handle, "cuFuncSetAttribute", &d.cuFuncSetAttribute, &out.why_not) ||
      !bind(handle, "cuEventCreate", &d.cuEventCreate, &out.why_not) ||
      !bind(handle, "cuEventRecord", &d.cuEventRecord, &out.why_not) ||
      !bind(handle, "cuEventElapsedTime", &d.cuEventElapsedTime, &out.why_not) ||
      !bind(handle, "cuEventDestroy_v2", &d.cuEventDestroy, &out.why_not)) {
    return out;  // the handle stays open: unloading a driver library is not worth the risk
  }
  CudaDriver::Result result = d.cuInit(0);
  if (result != 0) {
    out.why_not = "the CUDA driver did not initialize: " + d.error_text(result);
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace

const CudaDriver* CudaDriver::get(std::string* why_not) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.ok && why_not != nullptr) *why_not = loaded.why_not;
  return loaded.ok ? &loaded.driver : nullptr;
}

std::string CudaDriver::error_text(Result result) const {
  const char* text = nullptr;
  if (cuGetErrorString != nullptr && cuGetErrorString(result, &text) == 0 && text != nullptr)
    return std::string(text) + " (CUresult " + std::to_string(result) + ")";
  return "CUresult " + std::to_string(result);
}

void CudaDriver::check(Result result, const std::string& what) const {
  TM_USER_CHECK(result == 0) << what << ": " << error_text(result);
}

}  // namespace taskmap::runtime
