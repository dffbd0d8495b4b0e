#pragma once
// The build driver: compiles generated C++ sources into shared objects with the system compiler,
// in parallel, through an on-disk cache (DESIGN.md, road step 8).
//
// Cache key = XXH3-128 of (source, compiler identity, flags). The compiler is `$TASKMAP_CXX`
// (default `g++`; may include arguments, e.g. "ccache g++"); its identity is its resolved path and
// the first line of `--version`, read once per process. The cache folder is `$TASKMAP_CACHE_DIR`,
// else `$XDG_CACHE_HOME/taskmap`, else `$HOME/.cache/taskmap`; kernels live in its `kernels/`
// subfolder as `<key>.cpp` (kept for reading and for error reports) and `<key>.so`.
//
// Flags: -std=c++17 -O3 -fPIC -shared -fopenmp <ISA flags of the target> -fno-math-errno, then
// BuildOptions::extra_flags. No -ffast-math: generated code keeps IEEE NaN/Inf semantics.
//
// TASKMAP_LOG containing "build" prints one line per kernel to stderr (cache hit or compile time).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "taskmap/error.h"
#include "taskmap/runtime/library.h"
#include "taskmap/target.h"

namespace taskmap {

// A generated source that failed to compile. The message names the kernel, the compiler and its
// exit status, the path of the source (left on disk) and the compiler's diagnostics (trimmed).
class BuildError : public UserError {
 public:
  using UserError::UserError;
};

namespace build {

struct CompileJob {
  std::string name;    // for messages and logs only
  std::string source;  // a complete C++17 translation unit
};

struct BuildOptions {
  CpuTarget target = CpuTarget::host();
  int jobs = 0;  // compilers run at once; 0 = the number of hardware threads
  std::vector<std::string> extra_flags;
  // Called with (compiled so far, to compile) before the first compiler starts and after each
  // one finishes, from the building threads one at a time; not called when everything is
  // cached.
  std::function<void(size_t, size_t)> progress;
};

// Builds every job (cache hits are loaded, misses compiled in parallel) and returns the loaded
// libraries in job order. Jobs with equal sources are compiled once. Throws BuildError for the
// first failing job (in job order) after all compilers have finished; a cache folder that cannot
// be written is a UserError.
std::vector<std::shared_ptr<runtime::Library>> build_shared_objects(
    const std::vector<CompileJob>& jobs, const BuildOptions& options);

// Process-wide counters (tests and `taskmap cache` use them).
struct BuildStats {
  std::atomic<int64_t> compiler_invocations{0};
  std::atomic<int64_t> cache_hits{0};
};
BuildStats& build_stats();

// The cache's root folder and its kernels folder, as the environment says at the time of the call.
// Neither is created here (building creates the kernels folder on demand).
std::filesystem::path cache_root_dir();
std::filesystem::path kernel_cache_dir();

// Removes every cached kernel file. Libraries already loaded stay usable.
void clear_kernel_cache();

struct CacheUsage {
  int64_t files = 0;
  int64_t bytes = 0;
};
CacheUsage kernel_cache_usage();

}  // namespace build
}  // namespace taskmap
