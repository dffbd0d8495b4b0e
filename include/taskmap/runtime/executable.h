#pragma once
// A compiled model for one input signature: kernel calls over argument slots, the constants and
// a memory plan (one arena; intermediate tensors at fixed offsets chosen by liveness). Part of the
// runtime library: running it needs no compiler.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "taskmap/runtime/library.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::runtime {

// Where a tensor lives while the model runs.
struct Slot {
  // `unused`: a parameter the kernel never reads (weights it takes pre-packed instead); the
  // kernel gets a null pointer.
  enum class Kind : uint8_t { input, output, constant, arena, unused };
  Kind kind = Kind::arena;
  int64_t index = 0;  // input / output / constant number, or the arena byte offset
};

struct KernelCall {
  std::string name;   // kernel name, for messages
  std::string label;  // what it computes ("Conv 'conv1' + Relu 'relu1'"), for profiles
  std::shared_ptr<Library> library;
  Library::EntryFn entry = nullptr;
  std::vector<Slot> args;  // one per kernel parameter
};

struct TensorSpec {
  std::string name;
  ir::DType dtype;
  std::vector<int64_t> shape;
  std::string type_str() const;  // "f32[1, 1000]"
};

// A UserError naming the first input that does not match its spec (count, dtype, shape).
void check_inputs(const std::vector<TensorSpec>& specs, const std::vector<NDArray>& given);

class Executable {
 public:
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<NDArray> constants;
  std::vector<KernelCall> calls;
  // Output k is written by a kernel (Slot{output, k}), or copied at the end from another slot
  // (an output that is a constant, a graph input or another output).
  std::vector<Slot> output_sources;
  int64_t arena_bytes = 0;
  int threads = 0;  // 0: one per core

  // Runs the calls in order. `inputs` must match `inputs` specs (a UserError naming the input
  // otherwise). Not safe to call from two threads at once (the arena is shared).
  // The arrays returned are the caller's: a later run never writes into one the caller still
  // holds. One the caller has let go of is written again by the next run instead of a fresh
  // allocation (a new, zero-filled 3 MB output cost a fifth of a 0.5 ms GEMM's time).
  // With `call_ms`, the wall time of each call is added to (*call_ms)[call] (resized to the
  // number of calls).
  std::vector<NDArray> run(const std::vector<NDArray>& inputs,
                           std::vector<double>* call_ms = nullptr) const;

 private:
  mutable std::mutex mutex_;
  mutable NDArray arena_;
  mutable std::vector<NDArray> last_outputs_;  // the previous run's results, for reuse
};

}  // namespace taskmap::runtime
