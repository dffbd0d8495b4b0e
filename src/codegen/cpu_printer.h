#pragma once
// CpuPrinter: the CPU subclass of CPrinter. It spells f16 as _Float16, bf16 as the prelude's
// tm_bf16, vectors as GCC vector types (tm_f32x16), primitives as libm calls or prelude helpers,
// loop hints as OpenMP / GCC pragmas, and assertions as early returns. generate() lays out the
// whole file: header comment, includes, prelude, typedefs, functions, entry points.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "codegen/c_printer.h"
#include "taskmap/target.h"

namespace taskmap::codegen {

// A math primitive's spelling per float width (narrower floats compute through float).
struct MathSpelling {
  const char* name;
  const char* f32;
  const char* f64;
};
// nullptr when `name` is not a math primitive.
const MathSpelling* find_math(const std::string& name);
// Every libm or helper name the spellings use (variables must not shadow them).
std::set<std::string> math_spelling_names();

class CpuPrinter : public CPrinter {
 public:
  explicit CpuPrinter(const CpuTarget& target) : target_(target) {}
  std::string generate(const ir::Module& module);

 protected:
  std::string half_type_name(ir::DType dtype) override;
  std::string vector_type_name(ir::DType dtype) override;
  CExpr print_float_imm(ir::DType dtype, double value) override;
  CExpr print_call(const ir::CallNode* op) override;
  CExpr print_binary_function(ir::BinaryOp op, ir::DType dtype, const CExpr& a,
                              const CExpr& b) override;
  CExpr print_cast(const ir::Type& to, const ir::Expr& value) override;
  CExpr print_broadcast(ir::DType vector_dtype, const CExpr& scalar) override;
  void enter_loop(const ir::ForNode* op) override;
  void exit_loop(const ir::ForNode* op) override;
  void print_declare(const ir::DeclareNode* op) override;
  void print_assert(const ir::AssertNode* op) override;
  std::vector<std::string> loop_pragmas(const ir::ForNode* op) override;

 private:
  CExpr print_math(const MathSpelling& math, ir::DType dtype, const std::vector<CExpr>& args);
  void print_function(const ir::Function& fn, const std::string& c_name);
  void declare_constant_bounds(const ir::Stmt& body);
  void print_entry(const ir::Function& fn, const std::string& c_name);
  std::string vector_typedefs();

  CpuTarget target_;
  std::string function_name_;  // IR name of the function being printed, for messages
  int parallel_depth_ = 0;
  int simd_depth_ = 0;
  std::set<std::string> reserved_;
  // In the function being printed: the C variable holding each constant bound of min / max
  // (keyed by the constant's literal text; see declare_constant_bounds).
  std::map<std::string, std::string> bound_names_;
  // Per function (IR name): the C type of each parameter as the entry point passes it.
  std::map<std::string, std::vector<std::string>> param_types_;
};

}  // namespace taskmap::codegen
