// generate_cuda_source: the statement half of CudaPrinter (declarations, assertions, loop
// hints), the functions and the layout of the translation unit. See cuda_codegen.h.
#include "taskmap/codegen/cuda_codegen.h"

#include <map>
#include <unordered_set>

#include "codegen/cuda_printer.h"
#include "codegen/print_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

// Device helpers, each emitted only when the code uses it, in this order.
const std::vector<std::pair<const char*, const char*>>& cuda_prelude() {
  static const std::vector<std::pair<const char*, const char*>> pieces = {
      {"minmax", R"(namespace tm {
// min and max propagate NaN like numpy.minimum / maximum (fminf / fmaxf would return the other
// operand instead).
template <typename T>
__device__ __forceinline__ T min(T x, T y) { return x != x ? x : (x < y ? x : y); }
template <typename T>
__device__ __forceinline__ T max(T x, T y) { return x != x ? x : (x > y ? x : y); }
}  // namespace tm
)"},
      {"abs", R"(namespace tm {
// Integer absolute value; like C's abs, the most negative value maps to itself.
template <typename T>
__device__ __forceinline__ T abs(T x) { return x < 0 ? static_cast<T>(-x) : x; }
}  // namespace tm
)"},
      {"sigmoid", R"(namespace tm {
__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
}  // namespace tm
)"},
      {"failure",
       R"(// The first failed assertion of a launch: its number + 1 (0 while none failed). The host reads
// and clears it after a launch; the messages are in the generator's list.
__device__ int tm_failure = 0;
)"},
  };
  return pieces;
}

}  // namespace

std::vector<std::string> CudaPrinter::loop_pragmas(const ForNode* op) {
  switch (op->hint.kind) {
    case LoopKind::parallel:
      TM_UNREACHABLE() << "kernel " << function_name_ << " has a parallel loop over '"
                       << op->var.name()
                       << "': on CUDA the workers are threads (bind them with thread_idx_x)";
    case LoopKind::unroll:
      // Left over by the unroll pass (an extent too large to copy).
      return {"#pragma unroll"};
    case LoopKind::vectorize:  // each thread computes scalars
    case LoopKind::serial:
      return {};
  }
  TM_UNREACHABLE() << "bad loop kind";
}

void CudaPrinter::print_declare(const DeclareNode* op) {
  const Type& type = op->var.type();
  TM_ASSERT(op->scope != StorageScope::heap || !type.is_tensor())
      << "kernel " << function_name_ << " declares tensor '" << op->var.name()
      << "' on the heap, which CUDA kernels cannot (a temporary needs its own buffer)";
  TM_ASSERT(type.is_tensor() || op->scope == StorageScope::local)
      << "kernel " << function_name_ << " declares scalar '" << op->var.name()
      << "' outside local storage";
  if (!type.is_tensor()) {
    CPrinter::print_declare(op);
    return;
  }
  TM_ASSERT(!op->init.defined()) << "tensor '" << op->var.name()
                                 << "' is declared with an initial value";
  const std::string name = bind_declared_name(op->var);
  // 16 bytes: the widest load a thread makes (float4), so vector accesses to the tile align.
  line(std::string(op->scope == StorageScope::shared ? "__shared__ " : "") + "alignas(16) " +
       dtype_name(type.dtype()) + " " + name + "[" + std::to_string(type.layout().size()) + "];");
}

void CudaPrinter::print_assert(const AssertNode* op) {
  required_helpers_.insert("failure");
  assertion_messages_.push_back("kernel " + function_name_ + ": " + op->message);
  const std::string code = std::to_string(assertion_messages_.size());
  open_block("if (!" + wrap(print(op->cond), kUnary) + ")");
  line("atomicCAS(&tm_failure, 0, " + code + ");  // " + op->message);
  line(current_ret_type_.is_void() ? "return;" : "return {};");
  close_block();
}

void CudaPrinter::print_function(const Function& fn, const std::string& c_name) {
  TM_ASSERT(fn->kind != FunctionKind::host)
      << "host function " << fn->name << " has no CUDA spelling (kernels and device functions)";
  TM_ASSERT(fn->kind != FunctionKind::kernel || fn->ret_type.is_void())
      << "CUDA kernel " << fn->name << " must return void";
  function_name_ = fn->name;
  current_ret_type_ = fn->ret_type;
  const std::unordered_set<const ExprNode*> written = written_buffers(fn->body);
  std::vector<std::string> params;
  for (const Var& param : fn->params) {
    const Type& type = param.type();
    const std::string name = bind_name(param);
    if (type.is_scalar()) {
      params.push_back(type_name(type) + " " + name);
      continue;
    }
    const bool read_only =
        written.count(param.get()) == 0 && (type.is_tensor() || type.pointee().is_scalar());
    params.push_back((read_only ? "const " : "") + type_name(type) + " __restrict__ " + name);
  }
  std::string head;
  if (fn->kind == FunctionKind::kernel) {
    head = "extern \"C\" __global__ void ";
    if (auto it = fn->attrs.find("cuda.block_dim"); it != fn->attrs.end())
      head += "__launch_bounds__(" + it->second + ") ";
  } else {
    head = "static __device__ __forceinline__ " + type_name(fn->ret_type) + " ";
  }
  line("// " + std::string(function_kind_name(fn->kind)) + " " + fn->name);
  open_block(call_list(head + c_name, params, 0));
  if (fn->body.defined()) print_stmt(fn->body);
  close_block();
}

CudaSource CudaPrinter::generate(const Module& module) {
  // Functions keep their IR names unless CUDA has the name already (an operator named "Tanh"
  // makes a kernel `tanh`, the math function): then a suffix, and the driver looks the kernel
  // up by the symbol the result names.
  std::set<std::string> reserved = cuda_reserved_names();
  std::map<std::string, std::string> c_names = function_names(module, reserved);
  for (const auto& [ir_name, c_name] : c_names) reserved.insert(c_name);
  // Device functions first, so the kernels that follow may call them.
  std::vector<Function> order;
  for (const Function& fn : module.functions)
    if (fn->kind == FunctionKind::device) order.push_back(fn);
  for (const Function& fn : module.functions)
    if (fn->kind != FunctionKind::device) order.push_back(fn);
  for (const Function& fn : order) {
    if (out_.tellp() > 0) out_ << "\n";
    reset_names(reserved);
    print_function(fn, c_names[fn->name]);
  }

  std::string text = header_comment(module, target_.str()) + "\n";
  if (required_helpers_.count("fp16")) text += "#include <cuda_fp16.h>\n";
  if (required_helpers_.count("bf16")) text += "#include <cuda_bf16.h>\n";
  if (required_helpers_.count("fp16") || required_helpers_.count("bf16")) text += "\n";
  // NVRTC has no <cstdint>: the fixed-width names as glibc defines them (LP64), so a header
  // that brings its own agrees with these.
  text +=
      "typedef signed char int8_t;\ntypedef short int16_t;\ntypedef int int32_t;\n"
      "typedef long int64_t;\ntypedef unsigned char uint8_t;\n";
  std::string prelude;
  for (const auto& [name, piece] : cuda_prelude()) {
    if (required_helpers_.count(name))
      prelude += (prelude.empty() ? "" : "\n") + std::string(piece);
  }
  if (!prelude.empty()) text += "\n" + prelude;
  return {text + "\n" + out_.str(), std::move(c_names), assertion_messages_};
}

CudaSource generate_cuda_source(const Module& module, const CudaTarget& target) {
  CudaPrinter printer(target);
  return printer.generate(module);
}

}  // namespace taskmap::codegen
