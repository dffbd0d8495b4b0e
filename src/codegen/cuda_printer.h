#pragma once
// CudaPrinter: the CUDA subclass of CPrinter. It spells f16 as __half and bf16 as
// __nv_bfloat16 (computing through float), math primitives as the CUDA math library's, thread
// and block indices and the barrier as CUDA builtins, unroll hints as `#pragma unroll`, and
// assertions as a store to tm_failure. generate() lays out the whole translation unit.
#include <set>
#include <string>
#include <vector>

#include "codegen/c_printer.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/target.h"

namespace taskmap::codegen {

// Names no kernel or variable may take: CUDA builtins and the math library's functions.
std::set<std::string> cuda_reserved_names();

class CudaPrinter : public CPrinter {
 public:
  explicit CudaPrinter(const CudaTarget& target) : target_(target) {}
  CudaSource generate(const ir::Module& module);

 protected:
  std::string half_type_name(ir::DType dtype) override;
  std::string vector_type_name(ir::DType dtype) override;
  CExpr print_float_imm(ir::DType dtype, double value) override;
  CExpr print_call(const ir::CallNode* op) override;
  CExpr print_binary_function(ir::BinaryOp op, ir::DType dtype, const CExpr& a,
                              const CExpr& b) override;
  CExpr print_cast(const ir::Type& to, const ir::Expr& value) override;
  CExpr print_broadcast(ir::DType vector_dtype, const CExpr& scalar) override;
  void print_declare(const ir::DeclareNode* op) override;
  void print_assert(const ir::AssertNode* op) override;
  std::vector<std::string> loop_pragmas(const ir::ForNode* op) override;

 private:
  // cp.async, ldmatrix and mma.sync: inline PTX behind the prelude's tm_ptx functions.
  CExpr print_ptx_call(const ir::CallNode* op, const std::vector<CExpr>& args);
  CExpr print_math(const std::string& name, ir::DType dtype, const std::vector<CExpr>& args);
  // `x` (of `dtype`) as a float where dtype is f16 / bf16, else unchanged.
  CExpr widened(ir::DType dtype, const CExpr& x);
  void print_function(const ir::Function& fn, const std::string& c_name);

  CudaTarget target_;
  std::string function_name_;  // IR name of the function being printed, for messages
  std::vector<std::string> assertion_messages_;
};

}  // namespace taskmap::codegen
