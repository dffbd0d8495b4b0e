#pragma once
// C++ code generation for CPUs (DESIGN.md, road step 7): a lowered IR module becomes one C++17
// translation unit, meant to be read, that the build driver compiles with OpenMP.
//
// The source starts with a comment naming the module, the target and each function's attrs
// ("task", "config"), then a prelude holding only the helpers the code uses. Each kernel function
// F becomes `static void F(...)` (tensor parameters as `T* __restrict__`, const when F never
// writes them) plus the exported entry point `extern "C" int taskmap_entry_F(void* const* args)`
// (see runtime/library.h for the calling convention). Device functions become `static inline`;
// host functions are printed like kernels, entry point included.
//
// Semantics kept from the IR: IEEE NaN/Inf (min/max propagate NaN, like numpy.minimum); integer
// `/` and `%` truncate like C; i8/i16/u8 arithmetic wraps at its width; f16 is `_Float16`, bf16 a
// struct whose every operation rounds through float; `round` rounds half to even.
//
// Requires: a lowered module (no ForMapping, Compute or Reduce; one index per Load, Store and
// Address); anything else is an InternalError naming the node kind.
#include <string>

#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::codegen {

std::string generate_cpu_source(const ir::Module& module, const CpuTarget& target);

}  // namespace taskmap::codegen
