#pragma once
// Helpers for the codegen suites: a fixed target (so sources do not depend on the machine),
// compiling one kernel through the kernel cache, random data.
#include <memory>
#include <string>
#include <vector>

#include "taskmap/codegen/cpu_codegen.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/runtime/library.h"
#include "taskmap/target.h"

namespace taskmap::testing {

// cpu:avx2,cores=4,l1d=32k,l2=1m,l3=8m: the header comment of generated code names the target.
CpuTarget fixed_target();

// The source of a one-function module named "test", for fixed_target().
std::string source_of(const ir::Function& f);

// Builds `f` for this machine and returns its entry point. The library stays loaded until the
// process ends.
runtime::Library::EntryFn compile_for_host(const ir::Function& f);
// The library that compile_for_host() loaded last.
std::shared_ptr<runtime::Library> last_library();

std::vector<float> random_floats(size_t n, float lo = -4.0f, float hi = 4.0f);

// A 1-D (flattened) tensor variable.
ir::Var tensor(const std::string& name, ir::DType dtype, int64_t n);

bool contains(const std::string& text, const std::string& piece);

}  // namespace taskmap::testing
