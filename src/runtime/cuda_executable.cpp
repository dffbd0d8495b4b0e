// CudaExecutable: device setup on the first run, then copies in, launches (or a graph replay),
// copies out. Requires: the CUDA driver at run time only. Guarantees: the device state is
// released with the executable; every driver failure is a UserError saying what was being done.
#include "taskmap/runtime/cuda_executable.h"

#include <chrono>
#include <map>
#include <optional>

#include "taskmap/error.h"
#include "taskmap/runtime/cuda_module.h"

namespace taskmap::runtime {

using DevicePtr = CudaDriver::DevicePtr;

struct CudaExecutable::Device {
  explicit Device(int ordinal) : context(ordinal) {}
  ~Device() {
    // Nothing to report to in a destructor: the handles are released as well as they can be.
    const CudaDriver& d = context.driver();
    if (graph != nullptr) d.cuGraphExecDestroy(graph);
    for (CudaDriver::Event event : {launches_start, launches_end})
      if (event != nullptr) d.cuEventDestroy(event);
    if (stream != nullptr) d.cuStreamDestroy(stream);
  }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  CudaContext context;
  CudaDriver::Stream stream = nullptr;
  std::map<std::string, std::unique_ptr<CudaModule>> modules;  // by cubin path
  std::vector<const CudaModule*> call_modules;                 // per call
  std::vector<DeviceBuffer> constants, inputs, outputs;
  std::optional<DeviceBuffer> arena;
  // Per call, the device pointer of each argument and the array of their addresses the driver
  // takes; both stay put, so a captured graph keeps reading the right buffers.
  std::vector<std::vector<DevicePtr>> arg_values;
  std::vector<std::vector<void*>> arg_addresses;
  std::vector<DevicePtr> output_sources;  // where each output is read from at the end
  int runs = 0;
  CudaDriver::GraphExec graph = nullptr;
  CudaDriver::Event launches_start = nullptr, launches_end = nullptr;  // for device_ms
};

CudaExecutable::CudaExecutable() = default;
CudaExecutable::~CudaExecutable() = default;

namespace {

size_t bytes_of(const TensorSpec& spec) {
  return static_cast<size_t>(shape_numel(spec.shape)) * spec.dtype.bytes();
}

}  // namespace

std::vector<NDArray> CudaExecutable::run(const std::vector<NDArray>& given,
                                         std::vector<double>* call_ms, double* device_ms) const {
  check_inputs(inputs, given);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!device_) {
    auto d = std::make_unique<Device>(device);
    const CudaDriver& driver = d->context.driver();
    driver.check(driver.cuStreamCreate(&d->stream, 0), "creating a CUDA stream");
    for (CudaDriver::Event* event : {&d->launches_start, &d->launches_end})
      driver.check(driver.cuEventCreate(event, 0), "creating a CUDA event");
    for (const NDArray& c : constants) {
      d->constants.emplace_back(d->context, c.nbytes());
      d->constants.back().upload(c.raw(), c.nbytes());
    }
    for (const TensorSpec& s : inputs) d->inputs.emplace_back(d->context, bytes_of(s));
    for (const TensorSpec& s : outputs) d->outputs.emplace_back(d->context, bytes_of(s));
    d->arena.emplace(d->context, static_cast<size_t>(arena_bytes));
    auto pointer = [&](const Slot& s) -> DevicePtr {
      switch (s.kind) {
        case Slot::Kind::input:
          return d->inputs[s.index].pointer();
        case Slot::Kind::output:
          return d->outputs[s.index].pointer();
        case Slot::Kind::constant:
          return d->constants[s.index].pointer();
        case Slot::Kind::arena:
          return d->arena->pointer() + static_cast<DevicePtr>(s.index);
        case Slot::Kind::unused:
          return 0;
      }
      return 0;
    };
    for (const CudaKernelCall& call : calls) {
      std::unique_ptr<CudaModule>& module = d->modules[call.cubin_path];
      if (!module)
        module = std::make_unique<CudaModule>(d->context, call.cubin_path, call.assertion_messages);
      d->call_modules.push_back(module.get());
      std::vector<DevicePtr> values;
      for (const Slot& s : call.args) values.push_back(pointer(s));
      d->arg_values.push_back(std::move(values));
    }
    for (std::vector<DevicePtr>& values : d->arg_values) {
      std::vector<void*> addresses;
      for (DevicePtr& v : values) addresses.push_back(&v);
      d->arg_addresses.push_back(std::move(addresses));
    }
    for (const Slot& s : output_sources) d->output_sources.push_back(pointer(s));
    device_ = std::move(d);
  }
  Device& d = *device_;
  const CudaDriver& driver = d.context.driver();
  d.context.make_current();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (given[i].nbytes() == 0) continue;
    driver.check(driver.cuMemcpyHtoDAsync(d.inputs[i].pointer(), given[i].raw(), given[i].nbytes(),
                                          d.stream),
                 "copying input '" + inputs[i].name + "' to the GPU");
  }

  if (device_ms != nullptr)
    driver.check(driver.cuEventRecord(d.launches_start, d.stream), "recording a CUDA event");
  auto launch = [&](size_t c) {
    const CudaKernelCall& call = calls[c];
    d.call_modules[c]->launch(call.symbol, call.grid, call.block, d.arg_addresses[c],
                              call.shared_bytes, d.stream);
  };
  auto drain = [&](const std::string& what) {
    driver.check(driver.cuStreamSynchronize(d.stream), what);
  };
  if (call_ms) {
    call_ms->resize(calls.size());
    for (size_t c = 0; c < calls.size(); ++c) {
      drain("running the model on the GPU");
      const auto start = std::chrono::steady_clock::now();
      launch(c);
      drain("running kernel '" + calls[c].name + "' on the GPU");
      (*call_ms)[c] +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
    }
  } else if (d.graph != nullptr) {
    driver.check(driver.cuGraphLaunch(d.graph, d.stream), "replaying the model's CUDA graph");
  } else {
    // The first run launches one by one, so that a kernel that cannot launch is named; the
    // second captures its launches as a graph for the runs after it.
    const bool capture = use_graph && d.runs > 0 && !calls.empty();
    if (capture) {
      driver.check(driver.cuStreamBeginCapture(d.stream, CudaDriver::kCaptureThreadLocal),
                   "starting to capture a CUDA graph");
    }
    try {
      for (size_t c = 0; c < calls.size(); ++c) launch(c);
    } catch (...) {
      if (capture) {
        CudaDriver::Graph partial = nullptr;
        if (driver.cuStreamEndCapture(d.stream, &partial) == 0 && partial != nullptr)
          driver.cuGraphDestroy(partial);
      }
      throw;
    }
    if (capture) {
      CudaDriver::Graph graph = nullptr;
      driver.check(driver.cuStreamEndCapture(d.stream, &graph), "capturing a CUDA graph");
      const CudaDriver::Result made = driver.cuGraphInstantiate(&d.graph, graph, 0);
      driver.cuGraphDestroy(graph);
      driver.check(made, "instantiating the model's CUDA graph");
      driver.check(driver.cuGraphLaunch(d.graph, d.stream), "launching the model's CUDA graph");
    }
  }
  ++d.runs;
  if (device_ms != nullptr)
    driver.check(driver.cuEventRecord(d.launches_end, d.stream), "recording a CUDA event");

  std::vector<NDArray> results;
  for (size_t k = 0; k < outputs.size(); ++k) {
    results.emplace_back(outputs[k].dtype, outputs[k].shape);
    if (results[k].nbytes() == 0) continue;
    driver.check(driver.cuMemcpyDtoHAsync(results[k].raw(), d.output_sources[k],
                                          results[k].nbytes(), d.stream),
                 "copying output '" + outputs[k].name + "' from the GPU");
  }
  drain("running the model on the GPU");
  if (device_ms != nullptr) {
    float ms = 0;
    driver.check(driver.cuEventElapsedTime(&ms, d.launches_start, d.launches_end),
                 "reading the GPU's time");
    *device_ms = ms;
  }
  for (const auto& [path, module] : d.modules)
    if (module->has_assertions()) module->check_assertions();
  return results;
}

}  // namespace taskmap::runtime
