#pragma once
// How a loop should be executed. Hints travel from task mappings (`repeat` dims) and from the
// kernel builder into `For` statements; passes and code generation act on them.
#include <cstdint>
#include <string>

namespace taskmap::ir {

enum class LoopKind : uint8_t {
  serial,     // a plain loop
  unroll,     // the unroll pass copies the body `extent` times (extent must be a constant)
  parallel,   // iterations are spread over CPU cores (OpenMP parallel for)
  vectorize,  // iterations are independent and contiguous: vectorize them (omp simd)
};

struct LoopHint {
  LoopKind kind = LoopKind::serial;
  // parallel: the number of threads (0 = the runtime's setting).
  int64_t factor = 0;

  static LoopHint serial() { return {}; }
  static LoopHint unroll() { return {LoopKind::unroll, 0}; }
  static LoopHint parallel(int64_t threads = 0) { return {LoopKind::parallel, threads}; }
  static LoopHint vectorize() { return {LoopKind::vectorize, 0}; }

  bool operator==(const LoopHint&) const = default;
  // "" for serial, else "unroll", "parallel", "parallel(4)", "vectorize".
  std::string str() const;
};

}  // namespace taskmap::ir
