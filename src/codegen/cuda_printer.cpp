// CudaPrinter, expression half: type names, literals, casts, primitive calls.
// Requires: lowered IR without vector dtypes. Guarantees: every math primitive is spelled for
// f32 and f64 (f16 / bf16 compute through float); others are InternalErrors naming the primitive.
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "codegen/cuda_printer.h"
#include "taskmap/error.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

// Math primitives and their CUDA math library f32 spelling (the f64 one drops the `f`); helpers
// of the prelude start with "tm::".
constexpr std::pair<const char*, const char*> kMath[] = {
    {"exp", "expf"},
    {"exp2", "exp2f"},
    {"expm1", "expm1f"},
    {"log", "logf"},
    {"log2", "log2f"},
    {"log10", "log10f"},
    {"log1p", "log1pf"},
    {"sqrt", "sqrtf"},
    {"cbrt", "cbrtf"},
    {"sin", "sinf"},
    {"cos", "cosf"},
    {"tan", "tanf"},
    {"asin", "asinf"},
    {"acos", "acosf"},
    {"atan", "atanf"},
    {"sinh", "sinhf"},
    {"cosh", "coshf"},
    {"tanh", "tanhf"},
    {"asinh", "asinhf"},
    {"acosh", "acoshf"},
    {"atanh", "atanhf"},
    {"erf", "erff"},
    {"erfc", "erfcf"},
    {"abs", "fabsf"},
    {"floor", "floorf"},
    {"ceil", "ceilf"},
    {"trunc", "truncf"},
    // Half to even, like ONNX Round (roundf rounds half away from zero).
    {"round", "rintf"},
    {"rint", "rintf"},
    {"nearbyint", "nearbyintf"},
    {"pow", "powf"},
    {"atan2", "atan2f"},
    {"fmod", "fmodf"},
    {"copysign", "copysignf"},
    {"hypot", "hypotf"},
    {"fma", "fmaf"},
    {"rsqrt", "rsqrtf"},
    {"sigmoid", "tm::sigmoid"},
};

// The f32 spelling of a math primitive; nullptr when `name` is not one.
const char* cuda_math_f32(const std::string& name) {
  for (const auto& [ir_name, spelling] : kMath)
    if (name == ir_name) return spelling;
  return nullptr;
}

}  // namespace

std::set<std::string> cuda_reserved_names() {
  std::set<std::string> names = {
      "threadIdx",  "blockIdx", "blockDim", "gridDim",  "warpSize", "atomicCAS", "atomicAdd",
      "tm_failure", "isnan",    "isinf",    "isfinite", "fabs",     "min",       "max",
      "abs",        "round",    "int8_t",   "int16_t",  "int32_t",  "int64_t",   "uint8_t"};
  // Both spellings of each math function the code may call (expf and exp).
  for (const auto& [ir_name, spelling] : kMath) {
    const std::string f32 = spelling;
    if (f32.rfind("tm::", 0) == 0) continue;
    names.insert(f32);
    names.insert(f32.substr(0, f32.size() - 1));
  }
  return names;
}

namespace {

// The bit pattern of a special f32 / f64 value as a literal the device reinterprets.
CExpr special_float(bool wide, double value) {
  if (wide) {
    const uint64_t bits = std::bit_cast<uint64_t>(value);
    char text[64];
    std::snprintf(text, sizeof(text), "__longlong_as_double(0x%016llxLL)",
                  static_cast<unsigned long long>(bits));
    return {text, kPostfix};
  }
  const uint32_t bits = std::bit_cast<uint32_t>(static_cast<float>(value));
  char text[64];
  std::snprintf(text, sizeof(text), "__int_as_float(static_cast<int>(0x%08xu))", bits);
  return {text, kPostfix};
}

}  // namespace

std::string CudaPrinter::half_type_name(DType dtype) {
  if (dtype.kind() == ScalarKind::f16) {
    required_helpers_.insert("fp16");
    return "__half";
  }
  required_helpers_.insert("bf16");
  return "__nv_bfloat16";
}

std::string CudaPrinter::vector_type_name(DType dtype) {
  // Whole loads and stores of up to 16 bytes (ld.global.v4 and the like); a thread computes
  // scalars, so nothing else is spelled for vectors.
  const int lanes = dtype.lanes();
  TM_ASSERT(std::has_single_bit(static_cast<unsigned>(lanes)) && dtype.bytes() <= 16)
      << "vector dtype " << dtype.name() << " has no CUDA spelling (in kernel " << function_name_
      << "): at most 16 bytes, a power of two lanes";
  required_helpers_.insert("vec");
  return "tm::vec<" + dtype_name(dtype.element()) + ", " + std::to_string(lanes) + ">";
}

CExpr CudaPrinter::print_broadcast(DType vector_dtype, const CExpr&) {
  TM_UNREACHABLE() << "vector dtype " << vector_dtype.name() << " has no CUDA spelling (in kernel "
                   << function_name_ << ")";
}

CExpr CudaPrinter::print_float_imm(DType dtype, double value) {
  const bool wide = dtype == f64;
  CExpr literal;
  if (std::isnan(value) || std::isinf(value)) {
    // NVRTC has no __builtin_nan / __builtin_inf: the bit patterns, reinterpreted.
    literal = special_float(wide, value);
  } else {
    char buffer[64];
    auto result = wide ? std::to_chars(buffer, buffer + sizeof(buffer), value)
                       : std::to_chars(buffer, buffer + sizeof(buffer), static_cast<float>(value));
    std::string text(buffer, result.ptr);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    if (!wide) text += "f";
    literal = {text, text[0] == '-' ? kUnary : kPrimary};
  }
  if (dtype == f16 || dtype == bf16) {
    return {dtype_name(dtype) + "(" + literal.text + ")", kPostfix};
  }
  return literal;
}

CExpr CudaPrinter::widened(DType dtype, const CExpr& x) {
  if (dtype != f16 && dtype != bf16) return x;
  return {"static_cast<float>(" + x.text + ")", kPostfix};
}

CExpr CudaPrinter::print_binary_function(BinaryOp op, DType dtype, const CExpr& a, const CExpr& b) {
  if (op == BinaryOp::mod) return print_math("fmod", dtype, {a, b});
  required_helpers_.insert("minmax");
  const bool narrow = dtype == f16 || dtype == bf16;
  const std::string type = narrow ? "float" : dtype_name(dtype);
  CExpr result{std::string(op == BinaryOp::min ? "tm::min<" : "tm::max<") + type + ">(" +
                   widened(dtype, a).text + ", " + widened(dtype, b).text + ")",
               kPostfix};
  if (narrow) return {dtype_name(dtype) + "(" + result.text + ")", kPostfix};
  return result;
}

CExpr CudaPrinter::print_math(const std::string& name, DType dtype,
                              const std::vector<CExpr>& args) {
  if (dtype.is_int()) {
    TM_ASSERT(name == "abs") << "primitive '" << name << "' on " << dtype.name()
                             << " has no CUDA spelling";
    required_helpers_.insert("abs");
    return {"tm::abs(" + args.at(0).text + ")", kPostfix};
  }
  const char* f32_name = cuda_math_f32(name);
  TM_ASSERT(f32_name != nullptr) << "primitive '" << name << "' has no CUDA spelling";
  std::string callee = f32_name;
  if (callee.rfind("tm::", 0) == 0) {
    required_helpers_.insert(callee.substr(4));
  } else if (dtype == f64) {
    callee.pop_back();  // expf -> exp, fabsf -> fabs
  }
  std::string list;
  for (size_t i = 0; i < args.size(); ++i)
    list += std::string(i > 0 ? ", " : "") + widened(dtype, args[i]).text;
  CExpr call{callee + "(" + list + ")", kPostfix};
  if (dtype == f16 || dtype == bf16) return {dtype_name(dtype) + "(" + call.text + ")", kPostfix};
  return call;
}

CExpr CudaPrinter::print_call(const CallNode* op) {
  const std::string& name = op->callee->name;
  std::vector<CExpr> args;
  for (const Expr& arg : op->args) args.push_back(print(arg));
  if (name == "thread_idx_x") return {"static_cast<int>(threadIdx.x)", kPostfix};
  if (name == "block_idx_x") return {"static_cast<int>(blockIdx.x)", kPostfix};
  if (name == "block_dim_x") return {"static_cast<int>(blockDim.x)", kPostfix};
  if (name == "grid_dim_x") return {"static_cast<int>(gridDim.x)", kPostfix};
  if (name == "sync_threads") return {"__syncthreads()", kPostfix};
  if (name == "warp_shuffle_down" || name == "warp_shuffle_xor") {
    return {std::string(name == "warp_shuffle_down" ? "__shfl_down_sync" : "__shfl_xor_sync") +
                "(0xffffffffu, " + args.at(0).text + ", " + args.at(1).text + ")",
            kPostfix};
  }
  if (name == "atomic_add")
    return {"atomicAdd(" + args.at(0).text + ", " + args.at(1).text + ")", kPostfix};
  if (name == "vec_load")
    return {"tm::vec_load<" + vector_type_name(op->type.dtype()) + ">(" + args.at(0).text + ")",
            kPostfix};
  if (name == "vec_store") {
    vector_type_name(op->args.at(1).dtype());  // checks the dtype, brings the helpers
    return {"tm::vec_store(" + args.at(0).text + ", " + args.at(1).text + ")", kPostfix};
  }
  if (name == "vec_extract")
    return {wrap(args.at(0), kPostfix) + ".v[" + args.at(1).text + "]", kPostfix};
  if (name == "cp_async_16" || name == "cp_async_commit" || name == "cp_async_wait" ||
      name == "ldmatrix" || name == "mma_sync")
    return print_ptx_call(op, args);
  if (name == "min" || name == "max") {
    TM_ASSERT(args.size() == 2) << "primitive '" << name << "' takes two arguments";
    return print_binary_function(name == "min" ? BinaryOp::min : BinaryOp::max, op->type.dtype(),
                                 args[0], args[1]);
  }
  if (name == "isnan" || name == "isinf" || name == "isfinite") {
    const DType dtype = op->args.at(0).dtype();
    return {name + "(" + widened(dtype, args[0]).text + ")", kPostfix};
  }
  if (!op->args.empty() && (cuda_math_f32(name) != nullptr || name == "abs"))
    return print_math(name, op->args[0].dtype(), args);
  TM_UNREACHABLE() << "primitive '" << name << "' has no CUDA spelling (in kernel "
                   << function_name_ << ")";
}

CExpr CudaPrinter::print_ptx_call(const CallNode* op, const std::vector<CExpr>& args) {
  const std::string& name = op->callee->name;
  TM_ASSERT(target_.sm >= 80) << "kernel " << function_name_ << " calls " << name
                              << ", which needs sm_80 or newer (the target is " << target_.arch()
                              << ")";
  required_helpers_.insert("ptx");
  auto constant = [&](size_t i) {
    const auto* imm = op->args.at(i).as<IntImmNode>();
    TM_ASSERT(imm != nullptr) << "kernel " << function_name_ << ": argument " << i << " of " << name
                              << " must be a constant";
    return imm->value;
  };
  auto call_of = [&](const std::string& callee, size_t count) {
    std::string list;
    for (size_t i = 0; i < count; ++i) list += (i > 0 ? ", " : "") + args.at(i).text;
    return CExpr{"tm_ptx::" + callee + "(" + list + ")", kPostfix};
  };
  if (name == "cp_async_16") return call_of("cp_async_16", 3);
  if (name == "cp_async_commit") return call_of("cp_async_commit", 0);
  if (name == "cp_async_wait")
    return {"tm_ptx::cp_async_wait<" + std::to_string(constant(0)) + ">()", kPostfix};
  if (name == "ldmatrix") {
    const int64_t count = constant(2), trans = constant(3);
    TM_ASSERT((count == 1 || count == 2 || count == 4) && (trans == 0 || trans == 1))
        << "kernel " << function_name_ << ": ldmatrix loads 1, 2 or 4 matrices";
    return call_of("ldmatrix_x" + std::to_string(count) + (trans ? "_trans" : ""), 2);
  }
  const DType a = op->args.at(1).dtype();
  TM_ASSERT(a == f16 || a == bf16 || a == f32)
      << "kernel " << function_name_ << ": mma_sync on " << a.name() << " registers";
  return call_of("mma_sync", 4);
}

CExpr CudaPrinter::print_cast(const Type& to, const Expr& value) {
  if (!to.is_scalar()) return CPrinter::print_cast(to, value);
  const DType from = value.dtype(), target = to.dtype();
  if (from == target) return print(value);
  CExpr x = print(value);
  // __half and __nv_bfloat16 convert to and from float; other types go through it.
  const bool narrow_from = from == f16 || from == bf16, narrow_to = target == f16 || target == bf16;
  if ((narrow_from && target != f32) || (narrow_to && from != f32))
    x = {"static_cast<float>(" + x.text + ")", kPostfix};
  if (narrow_to) return {dtype_name(target) + "(" + x.text + ")", kPostfix};
  return {"static_cast<" + dtype_name(target) + ">(" + x.text + ")", kPostfix};
}

}  // namespace taskmap::codegen
