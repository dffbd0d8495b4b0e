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
      {"vec", R"(namespace tm {
// A register of N lanes moved by one load or store (ld.global.v4 for 16 bytes); the address
// must be aligned to the whole vector.
template <typename T, int N>
struct alignas(sizeof(T) * N) vec {
  T v[N];
};
template <typename V, typename T>
__device__ __forceinline__ V vec_load(const T* p) { return *reinterpret_cast<const V*>(p); }
template <typename T, typename V>
__device__ __forceinline__ void vec_store(T* p, V v) { *reinterpret_cast<V*>(p) = v; }
}  // namespace tm
)"},
      // Inline PTX for sm_80+: asynchronous copies, ldmatrix and mma.sync (primitive.cpp says
      // what each does). A host emulator of CUDA defines TM_PTX_EMULATED and brings its own.
      {"ptx", R"(#ifndef TM_PTX_EMULATED
namespace tm_ptx {
__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
               :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" :: "n"(N) : "memory");
}
// ldmatrix_x1 / _x2 / _x4 and their _trans forms: `dst` receives 1, 2 or 4 registers.
#define TM_PTX_LDMATRIX(SUFFIX, TRANS)                                                          \
  __device__ __forceinline__ void ldmatrix_x1##SUFFIX(void* dst, const void* src) {            \
    unsigned* r = static_cast<unsigned*>(dst);                                                  \
    asm volatile("ldmatrix.sync.aligned.m8n8.x1" TRANS ".shared.b16 {%0}, [%1];\n"            \
                 : "=r"(r[0]) : "r"(shared_address(src)));                                     \
  }                                                                                             \
  __device__ __forceinline__ void ldmatrix_x2##SUFFIX(void* dst, const void* src) {            \
    unsigned* r = static_cast<unsigned*>(dst);                                                  \
    asm volatile("ldmatrix.sync.aligned.m8n8.x2" TRANS ".shared.b16 {%0, %1}, [%2];\n"        \
                 : "=r"(r[0]), "=r"(r[1]) : "r"(shared_address(src)));                         \
  }                                                                                             \
  __device__ __forceinline__ void ldmatrix_x4##SUFFIX(void* dst, const void* src) {            \
    unsigned* r = static_cast<unsigned*>(dst);                                                  \
    asm volatile("ldmatrix.sync.aligned.m8n8.x4" TRANS ".shared.b16 {%0, %1, %2, %3}, [%4];\n" \
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])                               \
                 : "r"(shared_address(src)));                                                   \
  }
TM_PTX_LDMATRIX(, "")
TM_PTX_LDMATRIX(_trans, ".trans")
#undef TM_PTX_LDMATRIX
// m16n8k16 with f16 or bf16 registers, m16n8k8 with f32 ones rounded to tf32.
#define TM_PTX_MMA_16BIT(T, NAME)                                                           \
  __device__ __forceinline__ void mma_sync(float* d, const T* a, const T* b, const float* c) { \
    const unsigned* x = reinterpret_cast<const unsigned*>(a);                               \
    const unsigned* y = reinterpret_cast<const unsigned*>(b);                               \
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." NAME "." NAME                       \
                 ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};\n"  \
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])                              \
                 : "r"(x[0]), "r"(x[1]), "r"(x[2]), "r"(x[3]), "r"(y[0]), "r"(y[1]),           \
                   "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));                                \
  }
TM_PTX_MMA_16BIT(__half, "f16")
TM_PTX_MMA_16BIT(__nv_bfloat16, "bf16")
#undef TM_PTX_MMA_16BIT
__device__ __forceinline__ unsigned to_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}
__device__ __forceinline__ void mma_sync(float* d, const float* a, const float* b,
                                         const float* c) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(to_tf32(a[0])), "r"(to_tf32(a[1])), "r"(to_tf32(a[2])), "r"(to_tf32(a[3])),
        "r"(to_tf32(b[0])), "r"(to_tf32(b[1])), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}
}  // namespace tm_ptx
#endif
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
  if (fn->kind == FunctionKind::kernel) {
    // Every tensor a kernel is given starts 16-byte aligned (device allocations at 256, arena
    // offsets at 64; cp.async relies on it too). Said so, the compiler merges a thread's
    // consecutive elements into 16-byte loads and stores.
    for (const Var& param : fn->params) {
      if (!param.type().is_tensor()) continue;
      const std::string& name = name_of(param.get());
      const bool read_only = written.count(param.get()) == 0;
      line(name + " = static_cast<" + (read_only ? "const " : "") + type_name(param.type()) +
           ">(__builtin_assume_aligned(" + name + ", 16));");
    }
  }
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
  // (The PTX helpers overload mma_sync on both 16-bit types.)
  if (required_helpers_.count("ptx")) required_helpers_.insert({"fp16", "bf16"});
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
