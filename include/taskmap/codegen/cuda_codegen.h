#pragma once
// CUDA C++ code generation (DESIGN.md, road step 7): a lowered IR module becomes one translation
// unit for NVRTC (build/cuda_compiler.h), meant to be read.
//
// The source starts with a comment naming the module, the target and each function's attrs,
// then the headers and helpers the code uses. Each kernel function F becomes
// `extern "C" __global__ void F(...)` (F the function's name, with a suffix where CUDA has it)
// (tensor parameters as `T* __restrict__`, const when F never writes them), with
// `__launch_bounds__` from its "cuda.block_dim" attr; the driver API launches it with the same
// argument array a CPU entry point takes (one pointer per parameter). Device functions become
// `static __device__ __forceinline__`; host functions are not printable.
//
// Semantics kept from the IR, as on the CPU: IEEE NaN/Inf (min/max propagate NaN), C integer
// `/` and `%`, f16 (`__half`) and bf16 (`__nv_bfloat16`) computing through float, `round` half to
// even. A failed assertion stores its number + 1 in the module's `tm_failure` device variable (the
// first one wins) and returns; assertion_messages() of the printed module lists them in order.
//
// Requires: a lowered module without vector dtypes, heap tensors or parallel loops (a CUDA
// kernel's workers are its threads); anything else is an InternalError naming what it found.
#include <map>
#include <string>
#include <vector>

#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::codegen {

struct CudaSource {
  std::string text;
  // The symbol of each function (by IR name) in the compiled module: the IR name unless CUDA
  // has it already (a kernel named `tanh` becomes `tanh_1`).
  std::map<std::string, std::string> symbols;
  // Messages of the Assert statements, indexed by the value in tm_failure minus one.
  std::vector<std::string> assertion_messages;
};

CudaSource generate_cuda_source(const ir::Module& module, const CudaTarget& target);

}  // namespace taskmap::codegen
