// generate_cpu_source: the statement half of CpuPrinter (loops, declarations, assertions) and
// the layout of the generated file: header comment, includes, prelude, typedefs, functions,
// entry points. See cpu_codegen.h for the contract.
#include "taskmap/codegen/cpu_codegen.h"

#include <cmath>
#include <map>
#include <set>
#include <unordered_set>

#include "codegen/cpu_prelude.h"
#include "codegen/cpu_printer.h"
#include "codegen/print_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

// The constants that min and max compare f32 / f64 scalars against (not NaN, which must
// propagate from either side), by (dtype, value).
class ConstantBounds : public IRVisitor {
 public:
  std::set<std::pair<int, double>> found;

 protected:
  void visit_Binary(const BinaryNode* op) override {
    if (op->op == BinaryOp::min || op->op == BinaryOp::max) note(op->a, op->b);
    IRVisitor::visit_Binary(op);
  }
  void visit_Call(const CallNode* op) override {
    const std::string& name = op->callee->name;
    if ((name == "min" || name == "max") && op->args.size() == 2) note(op->args[0], op->args[1]);
    IRVisitor::visit_Call(op);
  }

 private:
  void note(const Expr& a, const Expr& b) {
    for (const Expr& side : {a, b}) {
      const auto* imm = side.as<FloatImmNode>();
      const DType dtype = side.dtype();
      if (imm != nullptr && (dtype == f32 || dtype == f64) && !std::isnan(imm->value))
        found.emplace(dtype == f32 ? 32 : 64, imm->value);
    }
  }
};

}  // namespace

std::vector<std::string> CpuPrinter::loop_pragmas(const ForNode* op) {
  // OpenMP allows no construct inside a simd loop, so hints nested in one are dropped.
  switch (op->hint.kind) {
    case LoopKind::parallel: {
      if (simd_depth_ > 0) return {};
      // Static scheduling: each thread takes one contiguous range of the iterations, the same
      // range of the image in every kernel (a GEMM's row tiles, a depthwise convolution's rows),
      // so that what one kernel leaves in a core's L2 is what the next one reads there. With
      // dynamic chunks the ranges interleaved at random and half the reads crossed to the other
      // core: MobileNetV2 ran ~4% slower on two threads, ResNet-50, Inception-v3 and BERT-base
      // 1-2% (alternating runs). The price is that a thread preempted on a busy machine holds
      // up its kernel.
      const std::string schedule = " schedule(static)";
      if (op->hint.factor > 0) {
        return {"#pragma omp parallel for num_threads(" + std::to_string(op->hint.factor) + ")" +
                schedule};
      }
      return {"#pragma omp parallel for" + schedule};
    }
    case LoopKind::vectorize:
      if (simd_depth_ > 0) return {};
      return {"#pragma omp simd"};
    case LoopKind::unroll:
      // Left over by the unroll pass (an extent too large to copy): GCC still unrolls it.
      if (const int64_t* extent = as_const_int(op->extent); extent && *extent <= 65534) {
        return {"#pragma GCC unroll " + std::to_string(*extent)};
      }
      return {};
    case LoopKind::serial:
      return {};
  }
  TM_UNREACHABLE() << "bad loop kind";
}

// Depths of the OpenMP loops being printed: pragmas and assertions depend on them.
void CpuPrinter::enter_loop(const ForNode* op) {
  parallel_depth_ += op->hint.kind == LoopKind::parallel ? 1 : 0;
  simd_depth_ += op->hint.kind == LoopKind::vectorize ? 1 : 0;
}

void CpuPrinter::exit_loop(const ForNode* op) {
  parallel_depth_ -= op->hint.kind == LoopKind::parallel ? 1 : 0;
  simd_depth_ -= op->hint.kind == LoopKind::vectorize ? 1 : 0;
}

void CpuPrinter::print_declare(const DeclareNode* op) {
  if (op->scope != StorageScope::heap || !op->var.type().is_tensor()) {
    CPrinter::print_declare(op);
    return;
  }
  TM_ASSERT(!op->init.defined()) << "tensor '" << op->var.name()
                                 << "' is declared with an initial value";
  required_helpers_.insert("heap");
  const Type& type = op->var.type();
  std::string name = bind_declared_name(op->var);
  line("tm::HeapArray<" + dtype_name(type.dtype()) + "> " + name + "(" +
       std::to_string(type.layout().size()) + ");");
}

void CpuPrinter::print_assert(const AssertNode* op) {
  required_helpers_.insert("assert");
  std::string cond = "if (!" + wrap(print(op->cond), kUnary) + ")";
  std::string message = string_literal("kernel " + function_name_ + ": " + op->message);
  if (parallel_depth_ + simd_depth_ > 0) {
    line(cond + " tm::fail_in_parallel_loop(" + message + ");");
  } else if (current_ret_type_.is_void()) {
    line(cond + " return tm::fail(" + message + ");");
  } else {
    open_block(cond);
    line("tm::fail(" + message + ");");
    line("return {};");
    close_block();
  }
}

void CpuPrinter::print_function(const Function& fn, const std::string& c_name) {
  function_name_ = fn->name;
  current_ret_type_ = fn->ret_type;
  reset_names(reserved_);
  const std::unordered_set<const ExprNode*> written = written_buffers(fn->body);

  std::vector<std::string> params;
  std::vector<std::string>& entry_types = param_types_[fn->name];
  entry_types.clear();
  for (const Var& param : fn->params) {
    const Type& type = param.type();
    std::string name = bind_name(param);
    if (type.is_scalar()) {
      params.push_back(type_name(type) + " " + name);
      entry_types.push_back(type_name(type));
      continue;
    }
    bool read_only =
        written.count(param.get()) == 0 && (type.is_tensor() || type.pointee().is_scalar());
    std::string pointer = (read_only ? "const " : "") + type_name(type);
    params.push_back(pointer + " __restrict__ " + name);
    entry_types.push_back(pointer);
  }
  std::string qualifiers = fn->kind == FunctionKind::device ? "static inline " : "static ";
  line("// " + std::string(function_kind_name(fn->kind)) + " " + fn->name);
  open_block(call_list(qualifiers + type_name(fn->ret_type) + " " + c_name, params, 0));
  bound_names_.clear();
  // (Not in device functions: they are called inside loops, which the asm would keep from
  // vectorizing.)
  if (fn->body.defined() && fn->kind != FunctionKind::device) declare_constant_bounds(fn->body);
  if (fn->body.defined()) print_stmt(fn->body);
  bound_names_.clear();
  close_block();
}

// Declares each constant that min / max compare against as an opaque variable at the top of
// the function, once: the "bounds" prelude piece says why.
void CpuPrinter::declare_constant_bounds(const Stmt& body) {
  ConstantBounds bounds;
  bounds.visit(body);
  for (const auto& [bits, value] : bounds.found) {
    const DType dtype = bits == 32 ? f32 : f64;
    const std::string literal = print_float_imm(dtype, value).text;
    const std::string name = fresh_name("bound");
    line(dtype_name(dtype) + " " + name + " = " + literal + ";");
    line("tm::opaque(" + name + ");");
    bound_names_[literal] = name;
  }
  if (!bound_names_.empty()) required_helpers_.insert("bounds");
}

void CpuPrinter::print_entry(const Function& fn, const std::string& c_name) {
  const std::vector<std::string>& types = param_types_.at(fn->name);
  std::vector<std::string> args;
  for (size_t i = 0; i < types.size(); ++i) {
    const Type& type = fn->params[i].type();
    std::string slot = "args[" + std::to_string(i) + "]";
    args.push_back(type.is_scalar() ? "*static_cast<const " + types[i] + "*>(" + slot + ")"
                                    : "static_cast<" + types[i] + ">(" + slot + ")");
  }
  bool asserts = required_helpers_.count("assert") != 0;
  line("extern \"C\" int taskmap_entry_" + fn->name + "(void* const* args) {");
  ++indent_;
  if (asserts) line("tm::failure = nullptr;");
  if (args.empty()) line("(void)args;");
  line(call_list(c_name, args, indent_) + ";");
  line(asserts ? "return tm::failure == nullptr ? 0 : 1;" : "return 0;");
  --indent_;
  line("}");
}

std::string CpuPrinter::generate(const Module& module) {
  // Function names are the entry points' names, so they are kept; only a name C cannot use (a
  // keyword, a libm name) gets a suffix in its static function.
  std::map<std::string, std::string> c_names = function_names(module, math_spelling_names());
  reserved_ = math_spelling_names();
  for (const auto& [ir_name, c_name] : c_names) reserved_.insert(c_name);

  // Device functions first, so the functions that follow may call them.
  std::vector<Function> order;
  for (const Function& fn : module.functions) {
    if (fn->kind == FunctionKind::device) order.push_back(fn);
  }
  for (const Function& fn : module.functions) {
    if (fn->kind != FunctionKind::device) order.push_back(fn);
  }
  for (const Function& fn : order) {
    if (out_.tellp() > 0) out_ << "\n";
    print_function(fn, c_names[fn->name]);
  }
  for (const Function& fn : order) {
    if (fn->kind == FunctionKind::device) continue;
    out_ << "\n";
    print_entry(fn, c_names[fn->name]);
  }
  std::string functions = out_.str();

  std::string text =
      header_comment(module, target_.str()) + "\n" + cpu_prelude_includes(required_helpers_);
  std::string prelude = cpu_prelude_definitions(required_helpers_);
  std::string typedefs = vector_typedefs();
  if (!prelude.empty()) text += "\n" + prelude;
  if (!typedefs.empty()) text += "\n" + typedefs;
  return text + "\n" + functions;
}

std::string generate_cpu_source(const Module& module, const CpuTarget& target) {
  CpuPrinter printer(target);
  return printer.generate(module);
}

}  // namespace taskmap::codegen
