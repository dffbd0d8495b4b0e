#pragma once
// Running CUDA kernels: a device's primary context, device memory, and modules loaded from
// cubins (build/cuda_compiler.h). A kernel launches with the CPU entry points' argument
// convention: one pointer per parameter, to a device pointer for a tensor and to the value for a
// scalar. Every driver failure is a UserError naming what was being done and the driver's text.
//
//   CudaContext gpu;                                  // device 0
//   CudaModule module(gpu, cubin.path, source.assertion_messages);
//   DeviceBuffer x(gpu, bytes), y(gpu, bytes);
//   x.upload(host_x.data(), bytes);
//   CudaDriver::DevicePtr px = x.pointer(), py = y.pointer();
//   module.launch(source.symbols.at("relu"), grid, block, {&px, &py});
//   gpu.synchronize();
//   module.check_assertions();
//   y.download(host_y.data(), bytes);
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "taskmap/runtime/cuda_driver.h"

namespace taskmap::runtime {

class CudaContext {
 public:
  // Device `ordinal`'s primary context, made current on the calling thread; a UserError with the
  // reason when there is no driver or no such device. The primary context lives as long as the
  // process (it is shared with every other user of the device in it).
  explicit CudaContext(int ordinal = 0);

  const CudaDriver& driver() const { return *driver_; }
  int ordinal() const { return ordinal_; }
  // Makes the context current on the calling thread (a thread must, before it launches).
  void make_current() const;
  // Waits for every launch; a UserError when one failed.
  void synchronize() const;

 private:
  const CudaDriver* driver_ = nullptr;
  CudaDriver::Context context_ = nullptr;
  int ordinal_ = 0;
};

// Device memory, freed with the object.
class DeviceBuffer {
 public:
  DeviceBuffer(const CudaContext& context, size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Copies `bytes` (at most the buffer's size) from / to host memory; synchronous.
  void upload(const void* data, size_t bytes);
  void download(void* data, size_t bytes) const;
  // Every 32-bit word set to `word` (0x7fc00000: f32 NaN, to poison an output).
  void fill_words(unsigned word);

  CudaDriver::DevicePtr pointer() const { return pointer_; }
  size_t bytes() const { return bytes_; }

 private:
  const CudaDriver* driver_ = nullptr;
  CudaDriver::DevicePtr pointer_ = 0;
  size_t bytes_ = 0;
};

// A cubin loaded into a context; unloaded with the object.
class CudaModule {
 public:
  // `assertion_messages`: the generated source's (codegen::CudaSource), which name the failed
  // assertion check_assertions() reports.
  CudaModule(const CudaContext& context, const std::string& cubin_path,
             std::vector<std::string> assertion_messages = {});
  ~CudaModule();
  CudaModule(const CudaModule&) = delete;
  CudaModule& operator=(const CudaModule&) = delete;

  // Launches kernel `symbol` on `grid` blocks of `block` threads (x only), asynchronously on
  // `stream` (nullptr: the default stream). `args`: one pointer per kernel parameter.
  // `shared_bytes` of dynamic shared memory; past 48 KiB the kernel is opted in first.
  void launch(const std::string& symbol, unsigned grid, unsigned block,
              const std::vector<void*>& args, unsigned shared_bytes = 0,
              CudaDriver::Stream stream = nullptr) const;
  bool has_assertions() const { return !assertion_messages_.empty(); }
  // After a synchronize: a UserError naming the first assertion that failed in the launches
  // since the last check (which it clears), if the module has assertions and one failed.
  void check_assertions() const;

 private:
  // The kernel's handle (looked up once); a UserError naming the cubin when it has none.
  CudaDriver::Function function(const std::string& symbol) const;

  const CudaDriver* driver_ = nullptr;
  CudaDriver::Module module_ = nullptr;
  std::string path_;
  std::vector<std::string> assertion_messages_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, CudaDriver::Function> functions_;
  mutable std::map<std::string, unsigned> opted_in_shared_;  // per symbol, the bytes allowed
};

}  // namespace taskmap::runtime
