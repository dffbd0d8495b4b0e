// CudaContext, DeviceBuffer and CudaModule: thin owners of driver handles (see cuda_module.h).
// Requires: nothing at build time (the driver is loaded at run time). Guarantees: each handle is
// released exactly once; every failing driver call is a UserError naming what it was doing.
#include "taskmap/runtime/cuda_module.h"

#include <utility>

#include "taskmap/error.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::runtime {

CudaContext::CudaContext(int ordinal) : ordinal_(ordinal) {
  std::string why_not;
  driver_ = CudaDriver::get(&why_not);
  TM_USER_CHECK(driver_ != nullptr) << "no CUDA device to run on: " << why_not;
  int count = 0;
  driver_->check(driver_->cuDeviceGetCount(&count), "counting CUDA devices");
  TM_USER_CHECK(ordinal >= 0 && ordinal < count)
      << "no CUDA device " << ordinal << " (this machine has " << count << ")";
  CudaDriver::Device device = 0;
  driver_->check(driver_->cuDeviceGet(&device, ordinal),
                 "opening CUDA device " + std::to_string(ordinal));
  driver_->check(driver_->cuDevicePrimaryCtxRetain(&context_, device),
                 "creating the context of CUDA device " + std::to_string(ordinal));
  make_current();
}

void CudaContext::make_current() const {
  driver_->check(driver_->cuCtxSetCurrent(context_), "making the CUDA context current");
}

void CudaContext::synchronize() const {
  driver_->check(driver_->cuCtxSynchronize(), "running CUDA kernels");
}

DeviceBuffer::DeviceBuffer(const CudaContext& context, size_t bytes)
    : driver_(&context.driver()), bytes_(bytes) {
  // A zero-byte tensor still gets an address of its own (cuMemAlloc refuses 0 bytes).
  driver_->check(driver_->cuMemAlloc(&pointer_, bytes > 0 ? bytes : 4),
                 "allocating " + std::to_string(bytes) + " bytes of device memory");
}

DeviceBuffer::~DeviceBuffer() {
  if (pointer_ != 0) driver_->cuMemFree(pointer_);  // nothing to report to in a destructor
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : driver_(other.driver_),
      pointer_(std::exchange(other.pointer_, 0)),
      bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (pointer_ != 0) driver_->cuMemFree(pointer_);
    driver_ = other.driver_;
    pointer_ = std::exchange(other.pointer_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::upload(const void* data, size_t bytes) {
  TM_USER_CHECK(bytes <= bytes_) << "copying " << bytes << " bytes into a device buffer of "
                                 << bytes_;
  if (bytes > 0) driver_->check(driver_->cuMemcpyHtoD(pointer_, data, bytes), "copying to the GPU");
}

void DeviceBuffer::download(void* data, size_t bytes) const {
  TM_USER_CHECK(bytes <= bytes_) << "copying " << bytes << " bytes out of a device buffer of "
                                 << bytes_;
  if (bytes > 0)
    driver_->check(driver_->cuMemcpyDtoH(data, pointer_, bytes), "copying from the GPU");
}

void DeviceBuffer::fill_words(unsigned word) {
  if (bytes_ >= 4)
    driver_->check(driver_->cuMemsetD32(pointer_, word, bytes_ / 4), "filling device memory");
}

CudaModule::CudaModule(const CudaContext& context, const std::string& cubin_path,
                       std::vector<std::string> assertion_messages)
    : driver_(&context.driver()),
      path_(cubin_path),
      assertion_messages_(std::move(assertion_messages)) {
  const std::string image = read_file(cubin_path, "cubin");
  driver_->check(driver_->cuModuleLoadData(&module_, image.data()),
                 "loading the CUDA module " + cubin_path);
}

CudaModule::~CudaModule() {
  if (module_ != nullptr) driver_->cuModuleUnload(module_);
}

CudaDriver::Function CudaModule::function(const std::string& symbol) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = functions_.find(symbol);
  if (it != functions_.end()) return it->second;
  CudaDriver::Function f = nullptr;
  driver_->check(driver_->cuModuleGetFunction(&f, module_, symbol.c_str()),
                 "finding kernel '" + symbol + "' in " + path_);
  functions_.emplace(symbol, f);
  return f;
}

void CudaModule::launch(const std::string& symbol, unsigned grid, unsigned block,
                        const std::vector<void*>& args, unsigned shared_bytes,
                        CudaDriver::Stream stream) const {
  TM_USER_CHECK(grid > 0 && block > 0)
      << "launching kernel '" << symbol << "' on " << grid << " blocks of " << block << " threads";
  const CudaDriver::Function f = function(symbol);
  constexpr unsigned kDefaultSharedLimit = 48 * 1024;
  if (shared_bytes > kDefaultSharedLimit) {
    std::lock_guard<std::mutex> lock(mutex_);
    unsigned& allowed = opted_in_shared_[symbol];
    if (allowed < shared_bytes) {
      driver_->check(driver_->cuFuncSetAttribute(f, CudaDriver::kMaxDynamicSharedBytes,
                                                 static_cast<int>(shared_bytes)),
                     "allowing kernel '" + symbol + "' " + std::to_string(shared_bytes) +
                         " bytes of shared memory");
      allowed = shared_bytes;
    }
  }
  // The driver takes the argument array as void** but only reads it: no copy per launch.
  void** params = const_cast<void**>(args.data());
  driver_->check(
      driver_->cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared_bytes, stream, params, nullptr),
      "launching kernel '" + symbol + "' of " + path_);
}

void CudaModule::check_assertions() const {
  if (assertion_messages_.empty()) return;
  CudaDriver::DevicePtr failure = 0;
  size_t bytes = 0;
  driver_->check(driver_->cuModuleGetGlobal(&failure, &bytes, module_, "tm_failure"),
                 "finding tm_failure in " + path_);
  int code = 0;
  driver_->check(driver_->cuMemcpyDtoH(&code, failure, sizeof(code)), "reading tm_failure");
  if (code == 0) return;
  const int zero = 0;
  driver_->check(driver_->cuMemcpyHtoD(failure, &zero, sizeof(zero)), "clearing tm_failure");
  TM_USER_CHECK(code < 1 || static_cast<size_t>(code) > assertion_messages_.size())
      << "assertion failed on the GPU: " << assertion_messages_[code - 1];
  TM_USER_ERROR() << "assertion " << code << " failed on the GPU (" << path_ << ")";
}

}  // namespace taskmap::runtime
