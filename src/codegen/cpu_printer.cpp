// CpuPrinter, expression half: type names, literals, casts, primitive calls.
// Requires: lowered IR. Guarantees: every primitive the table knows is spelled for every float
// width; others are InternalErrors naming the primitive.
#include <charconv>
#include <cmath>

#include "codegen/cpu_printer.h"
#include "taskmap/error.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

// Math primitives with a libm (or prelude) spelling per float width. Narrower floats compute
// through float.
constexpr MathSpelling kMath[] = {
    {"exp", "tm::exp_f32", "exp"},
    {"exp2", "exp2f", "exp2"},
    {"expm1", "expm1f", "expm1"},
    {"log", "logf", "log"},
    {"log2", "log2f", "log2"},
    {"log10", "log10f", "log10"},
    {"log1p", "log1pf", "log1p"},
    {"sqrt", "sqrtf", "sqrt"},
    {"cbrt", "cbrtf", "cbrt"},
    {"sin", "sinf", "sin"},
    {"cos", "cosf", "cos"},
    {"tan", "tanf", "tan"},
    {"asin", "asinf", "asin"},
    {"acos", "acosf", "acos"},
    {"atan", "atanf", "atan"},
    {"sinh", "sinhf", "sinh"},
    {"cosh", "coshf", "cosh"},
    {"tanh", "tm::tanh_f32", "tanh"},
    {"asinh", "asinhf", "asinh"},
    {"acosh", "acoshf", "acosh"},
    {"atanh", "atanhf", "atanh"},
    {"erf", "tm::erf_f32", "erf"},
    {"erfc", "erfcf", "erfc"},
    {"abs", "fabsf", "fabs"},
    {"floor", "floorf", "floor"},
    {"ceil", "ceilf", "ceil"},
    {"trunc", "truncf", "trunc"},
    // Half to even, like ONNX Round and numpy.round (roundf would round half away from zero).
    {"round", "nearbyintf", "nearbyint"},
    {"rint", "rintf", "rint"},
    {"nearbyint", "nearbyintf", "nearbyint"},
    {"pow", "powf", "pow"},
    {"atan2", "atan2f", "atan2"},
    {"fmod", "fmodf", "fmod"},
    {"copysign", "copysignf", "copysign"},
    {"hypot", "hypotf", "hypot"},
    {"fma", "fmaf", "fma"},
    {"rsqrt", "tm::rsqrt", "tm::rsqrt"},
    {"sigmoid", "tm::sigmoid_f32", "tm::sigmoid"},
};

}  // namespace

const MathSpelling* find_math(const std::string& name) {
  for (const MathSpelling& m : kMath) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::set<std::string> math_spelling_names() {
  std::set<std::string> names;
  for (const MathSpelling& m : kMath) {
    for (const char* spelling : {m.f32, m.f64}) {
      if (std::string_view(spelling).rfind("tm::", 0) != 0) names.insert(spelling);
    }
  }
  return names;
}

std::string CpuPrinter::half_type_name(DType dtype) {
  if (dtype.kind() == ScalarKind::f16) return "_Float16";
  required_helpers_.insert("bf16");
  return "tm_bf16";
}

std::string CpuPrinter::vector_type_name(DType dtype) {
  // Booleans of a vector comparison are 32-bit lane masks (what GCC gives for float lanes).
  int lane_bytes = dtype.is_bool() ? 4 : dtype.bits() / 8;
  int bytes = lane_bytes * dtype.lanes();
  TM_ASSERT(bytes > 0 && (bytes & (bytes - 1)) == 0)
      << "vector dtype " << dtype.name() << " is " << bytes << " bytes, not a power of two";
  TM_ASSERT(dtype.kind() != ScalarKind::bf16) << "bf16 vectors are not supported on CPU";
  return "tm_" + dtype.name();
}

std::string CpuPrinter::vector_typedefs() {
  std::string text;
  for (auto [kind, lanes] : used_vector_dtypes_) {
    DType dtype(static_cast<ScalarKind>(kind), lanes);
    DType element = dtype.is_bool() ? i32 : dtype.element();
    int bytes = (dtype.is_bool() ? 4 : dtype.bits() / 8) * lanes;
    text += "typedef " + dtype_name(element) + " " + vector_type_name(dtype) +
            " __attribute__((vector_size(" + std::to_string(bytes) + ")));\n";
  }
  return text;
}

CExpr CpuPrinter::print_float_imm(DType dtype, double value) {
  bool wide = dtype == f64;
  std::string text;
  if (std::isnan(value)) {
    text = wide ? "__builtin_nan(\"\")" : "__builtin_nanf(\"\")";
  } else if (std::isinf(value)) {
    text = std::string(value < 0 ? "-" : "") + (wide ? "__builtin_inf()" : "__builtin_inff()");
  } else {
    // The shortest text that reads back to the same value.
    char buffer[64];
    auto result = wide ? std::to_chars(buffer, buffer + sizeof(buffer), value)
                       : std::to_chars(buffer, buffer + sizeof(buffer), static_cast<float>(value));
    text.assign(buffer, result.ptr);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    if (!wide) text += "f";
  }
  int precedence = text[0] == '-' ? kUnary : (text[0] == '_' ? kPostfix : kPrimary);
  if (dtype == f16) return {"static_cast<_Float16>(" + text + ")", kPostfix};
  if (dtype == bf16) return {dtype_name(dtype) + "(" + text + ")", kPostfix};
  return {text, precedence};
}

CExpr CpuPrinter::print_broadcast(DType vector_dtype, const CExpr& scalar) {
  required_helpers_.insert("broadcast");
  return {"tm::broadcast<" + dtype_name(vector_dtype) + ">(" + scalar.text + ")", kPostfix};
}

CExpr CpuPrinter::print_binary_function(BinaryOp op, DType dtype, const CExpr& a, const CExpr& b) {
  if (op == BinaryOp::mod) return print_math(*find_math("fmod"), dtype, {a, b});
  // Against a constant bound: one maxps / minps (see the "bounds" prelude piece).
  const bool a_bound = bound_names_.count(a.text) != 0, b_bound = bound_names_.count(b.text) != 0;
  if (!dtype.is_vector() && (a_bound || b_bound) && !(a_bound && b_bound)) {
    const CExpr& x = a_bound ? b : a;
    const std::string& bound = bound_names_.at(a_bound ? a.text : b.text);
    return {std::string(op == BinaryOp::min ? "tm::min_bound<" : "tm::max_bound<") +
                dtype_name(dtype) + ">(" + x.text + ", " + bound + ")",
            kPostfix};
  }
  required_helpers_.insert("minmax");
  return {std::string(op == BinaryOp::min ? "tm::min(" : "tm::max(") + a.text + ", " + b.text + ")",
          kPostfix};
}

CExpr CpuPrinter::print_math(const MathSpelling& math, DType dtype,
                             const std::vector<CExpr>& args) {
  std::string callee = dtype.element() == f64 ? math.f64 : math.f32;
  if (callee.rfind("tm::", 0) == 0) required_helpers_.insert(callee.substr(4));
  // The f32 sigmoid is built on exp_f32; tanh and erf on odd_rational.
  if (callee == "tm::sigmoid_f32") required_helpers_.insert("exp_f32");
  if (callee == "tm::tanh_f32" || callee == "tm::erf_f32") required_helpers_.insert("odd_rational");
  if (dtype.is_int()) {
    TM_ASSERT(std::string(math.name) == "abs")
        << "primitive '" << math.name << "' on " << dtype.name() << " has no CPU spelling";
    required_helpers_.insert("abs");
    callee = "tm::abs";
  }
  std::string list;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) list += ", ";
    list += dtype.is_vector() ? std::string(1, static_cast<char>('a' + i)) : args[i].text;
  }
  if (dtype.is_vector()) {
    // Lane by lane: libm has no vector forms without -ffast-math.
    required_helpers_.insert("lanewise");
    std::string lane_type = dtype_name(dtype.element());
    std::string params;
    std::string values;
    for (size_t i = 0; i < args.size(); ++i) {
      params += std::string(i > 0 ? ", " : "") + lane_type + " " + static_cast<char>('a' + i);
      values += ", " + args[i].text;
    }
    return {"tm::lanewise(" + values.substr(2) + ", [](" + params + ") { return " + callee + "(" +
                list + "); })",
            kPostfix};
  }
  if (dtype == f16 || dtype == bf16) {
    list.clear();
    for (size_t i = 0; i < args.size(); ++i) {
      list += std::string(i > 0 ? ", " : "") + "static_cast<float>(" + args[i].text + ")";
    }
    return {"static_cast<" + dtype_name(dtype) + ">(" + callee + "(" + list + "))", kPostfix};
  }
  return {callee + "(" + list + ")", kPostfix};
}

CExpr CpuPrinter::print_call(const CallNode* op) {
  const std::string& name = op->callee->name;
  std::vector<CExpr> args;
  for (const Expr& arg : op->args) args.push_back(print(arg));
  if (const MathSpelling* math = find_math(name)) {
    TM_ASSERT(!op->args.empty()) << "primitive '" << name << "' called without arguments";
    return print_math(*math, op->args[0].dtype(), args);
  }
  if (name == "min" || name == "max") {
    TM_ASSERT(args.size() == 2) << "primitive '" << name << "' takes two arguments";
    return print_binary_function(name == "min" ? BinaryOp::min : BinaryOp::max, op->type.dtype(),
                                 args[0], args[1]);
  }
  if (name == "isnan" || name == "isinf" || name == "isfinite") {
    DType dtype = op->args.at(0).dtype();
    TM_ASSERT(!dtype.is_vector()) << "primitive '" << name << "' on vectors has no CPU spelling";
    // std::isnan has no _Float16 or tm_bf16 overload; widening to float keeps the answer.
    std::string x =
        dtype == f16 || dtype == bf16 ? "static_cast<float>(" + args[0].text + ")" : args[0].text;
    return {"std::" + name + "(" + x + ")", kPostfix};
  }
  if (name == "vec_load") {
    required_helpers_.insert("vec_memory");
    return {"tm::vec_load<" + type_name(op->type) + ">(" + args.at(0).text + ")", kPostfix};
  }
  if (name == "vec_load_masked") {
    required_helpers_.insert("vec_load_masked");
    return {"tm::vec_load_masked<" + type_name(op->type) + ">(" + args.at(0).text + ", " +
                args.at(1).text + ")",
            kPostfix};
  }
  if (name == "vec_gather_masked") {
    required_helpers_.insert("vec_load_masked");  // the piece holds both
    return {"tm::vec_gather_masked<" + type_name(op->type) + ">(" + args.at(0).text + ", " +
                args.at(1).text + ", " + args.at(2).text + ")",
            kPostfix};
  }
  if (name == "vec_store") {
    required_helpers_.insert("vec_memory");
    return {"tm::vec_store(" + args.at(0).text + ", " + args.at(1).text + ")", kPostfix};
  }
  if (name == "prefetch_read" || name == "prefetch_write") {
    // Locality 2 (L2 and outward): the GEMM template asks for a tile's epilogue lines while it
    // computes the tile, long enough before the epilogue that L1 would have moved on.
    return {"__builtin_prefetch(" + args.at(0).text + (name == "prefetch_write" ? ", 1" : ", 0") +
                ", 2)",
            kPostfix};
  }
  if (name == "blend") {
    required_helpers_.insert("blend");
    return {"tm::blend(" + args.at(0).text + ", " + args.at(1).text + ", " + args.at(2).text + ")",
            kPostfix};
  }
  if (name == "vec_broadcast") return print_broadcast(op->type.dtype(), args.at(0));
  if (name == "vec_broadcast_at")
    return print_broadcast(op->type.dtype(), {"*" + wrap(args.at(0), kUnary), kUnary});
  if (name == "vec_extract")
    return {wrap(args.at(0), kPostfix) + "[" + args.at(1).text + "]", kPostfix};
  if (name == "vec_reduce_add") {
    required_helpers_.insert("reduce_add");
    return {"tm::reduce_add(" + args.at(0).text + ")", kPostfix};
  }
  if (name == "vec_reduce_max") {
    required_helpers_.insert({"minmax", "reduce_max"});
    return {"tm::reduce_max(" + args.at(0).text + ")", kPostfix};
  }
  TM_UNREACHABLE() << "primitive '" << name << "' has no CPU spelling";
}

CExpr CpuPrinter::print_cast(const Type& to, const Expr& value) {
  if (!to.is_scalar()) return CPrinter::print_cast(to, value);
  DType from = value.dtype();
  DType target = to.dtype();
  if (from == target) return print(value);
  CExpr x = print(value);
  if (target.is_vector() || from.is_vector()) {
    TM_ASSERT(target.lanes() == from.lanes())
        << "cast from " << from.name() << " to " << target.name() << " changes the lane count";
    return {"__builtin_convertvector(" + x.text + ", " + dtype_name(target) + ")", kPostfix};
  }
  // tm_bf16 converts only to and from float.
  bool through_float = (from == bf16 && target != f32) || (target == bf16 && from != f32);
  if (through_float) x = {"static_cast<float>(" + x.text + ")", kPostfix};
  return {"static_cast<" + dtype_name(target) + ">(" + x.text + ")", kPostfix};
}

}  // namespace taskmap::codegen
