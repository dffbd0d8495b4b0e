#include "taskmap/runtime/executable.h"

#include <omp.h>

#include <chrono>
#include <cstring>

#include "taskmap/error.h"

namespace taskmap::runtime {

std::string TensorSpec::type_str() const {
  return dtype.name() + shape_str(shape);
}

void check_inputs(const std::vector<TensorSpec>& specs, const std::vector<NDArray>& given) {
  TM_USER_CHECK(given.size() == specs.size())
      << "the model takes " << specs.size() << " inputs, " << given.size() << " were given";
  for (size_t i = 0; i < specs.size(); ++i) {
    TM_USER_CHECK(given[i].defined() && given[i].dtype() == specs[i].dtype &&
                  given[i].shape() == specs[i].shape)
        << "input " << i << " ('" << specs[i].name << "'): expected " << specs[i].type_str()
        << ", got " << (given[i].defined() ? given[i].type_str() : "nothing");
  }
}

std::vector<NDArray> Executable::run(const std::vector<NDArray>& given,
                                     std::vector<double>* call_ms) const {
  check_inputs(inputs, given);
  std::lock_guard<std::mutex> lock(mutex_);
  if (arena_.nbytes() < static_cast<size_t>(arena_bytes)) arena_ = NDArray(ir::u8, {arena_bytes});
  // Every element of an output is written below (by its kernel or by the copy at the end), so a
  // buffer of the previous run that nobody else holds any more can take it as it is.
  last_outputs_.resize(outputs.size());
  std::vector<NDArray> results;
  for (size_t k = 0; k < outputs.size(); ++k) {
    NDArray& last = last_outputs_[k];
    if (!last.sole_owner()) last = NDArray(outputs[k].dtype, outputs[k].shape);
    results.push_back(last);
  }

  auto address = [&](const Slot& s) -> void* {
    switch (s.kind) {
      case Slot::Kind::input:
        return const_cast<void*>(given[s.index].raw());
      case Slot::Kind::output:
        return results[s.index].raw();
      case Slot::Kind::constant:
        return const_cast<void*>(constants[s.index].raw());
      case Slot::Kind::arena:
        return static_cast<std::byte*>(arena_.raw()) + s.index;
      case Slot::Kind::unused:
        return nullptr;
    }
    return nullptr;
  };

  if (threads > 0) omp_set_num_threads(threads);
  std::vector<void*> args;
  if (call_ms) call_ms->resize(calls.size());
  for (size_t c = 0; c < calls.size(); ++c) {
    const KernelCall& call = calls[c];
    args.clear();
    for (const Slot& s : call.args) args.push_back(address(s));
    // The clock is read only when profiling: the plain run path stays call after call.
    std::chrono::steady_clock::time_point start;
    if (call_ms) start = std::chrono::steady_clock::now();
    int status = call.entry(args.data());
    if (call_ms) {
      (*call_ms)[c] +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
    }
    TM_USER_CHECK(status == 0) << "kernel '" << call.name
                               << "' failed: " << call.library->last_error();
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Slot& s = output_sources[k];
    if (s.kind == Slot::Kind::output && s.index == static_cast<int64_t>(k)) continue;
    std::memcpy(results[k].raw(), address(s), results[k].nbytes());
  }
  return results;
}

}  // namespace taskmap::runtime
