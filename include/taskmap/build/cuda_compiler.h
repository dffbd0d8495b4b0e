#pragma once
// The CUDA build driver: compiles generated CUDA C++ sources to cubins for the target's exact
// architecture with NVRTC, in-process and in parallel, through the same on-disk cache as the CPU
// kernels (DESIGN.md, road step 8).
//
// NVRTC is loaded when first needed (dlopen of $TASKMAP_NVRTC, else libnvrtc.so.13, .so.12, .so):
// taskmap builds and runs without the CUDA toolkit, and only building CUDA kernels asks for it.
//
// Cache key = XXH3-128 of (source, NVRTC version, options). Files in the kernels folder:
// `<key>.cu` (kept for reading and for error reports), `<key>.cubin`, and `<key>.log` when NVRTC
// printed warnings. Options: --gpu-architecture=sm_XY[a] -std=c++17, --include-path= the CUDA
// toolkit's headers (for cuda_fp16.h / cuda_bf16.h: $CUDA_HOME, $CUDA_PATH, beside libnvrtc, or
// /usr/local/cuda) where found, then extra_options.
// TASKMAP_LOG containing "build" prints one line per kernel, as for the CPU.
#include <functional>
#include <string>
#include <vector>

#include "taskmap/build/compiler.h"
#include "taskmap/target.h"

namespace taskmap::build {

struct CudaCompileJob {
  std::string name;    // for messages and logs only
  std::string source;  // a complete CUDA C++17 translation unit for NVRTC (device code only)
};

struct CudaBuildOptions {
  CudaTarget target;
  int jobs = 0;  // NVRTC compilations at once; 0 = the number of hardware threads
  std::vector<std::string> extra_options;
  // As BuildOptions::progress: (compiled so far, to compile), not called when all are cached.
  std::function<void(size_t, size_t)> progress;
};

struct Cubin {
  std::string path;      // the cubin in the cache
  std::string warnings;  // what NVRTC printed while compiling it ("" when nothing)
};

// Builds every job (cache hits are read, misses compiled in parallel) and returns the cubins in
// job order. Throws BuildError for the first failing job (in job order), naming the kernel, the
// architecture, the source's path and NVRTC's log, after every compilation started has finished;
// a UserError when NVRTC cannot be loaded (saying how to point TASKMAP_NVRTC at it).
std::vector<Cubin> build_cubins(const std::vector<CudaCompileJob>& jobs,
                                const CudaBuildOptions& options);

// Whether NVRTC can be loaded here; when not, *why_not says what was tried.
bool nvrtc_available(std::string* why_not = nullptr);
// "13.0": the NVRTC that build_cubins uses (a UserError when there is none).
std::string nvrtc_version();

}  // namespace taskmap::build
