#pragma once
// CPrinter: prints lowered IR as C-family source (expressions, statements, types). Target
// subclasses (CPU here, CUDA later) spell what differs: types of f16/bf16 and vectors, primitive
// calls, loop pragmas, assertions, and the file around the functions.
//
// Requires lowered IR: no ForMapping, Compute or Reduce; every Load, Store and Address on a
// tensor or pointer has exactly one (flattened) index. Anything else is an InternalError naming
// the node kind.
// Guarantees: output is deterministic; every variable binding gets a valid C identifier from its
// IR name (sanitized, `_1`, `_2`... when the name is taken by a variable in scope, a keyword or a
// helper), so no C declaration shadows or redeclares another; long lines are broken after an
// operator or comma; expressions carry the fewest parentheses that keep the IR's evaluation
// order, plus a few for readability (`a || (b && c)`, `(a & b) | c`).
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "taskmap/ir/expr.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::codegen {

// C++ operator precedence, higher binds tighter.
enum Precedence : int {
  kTernary = 2,
  kLogicalOr = 3,
  kLogicalAnd = 4,
  kBitOr = 5,
  kBitXor = 6,
  kBitAnd = 7,
  kEquality = 8,
  kRelational = 9,
  kShift = 11,
  kAdditive = 12,
  kMultiplicative = 13,
  kUnary = 15,
  kPostfix = 16,  // calls, subscripts, casts
  kPrimary = 17,  // names and non-negative literals
};

// An expression's text and the precedence of its outermost operator.
struct CExpr {
  std::string text;
  int precedence = kPrimary;
};

// `e` as an operand of a context that needs precedence of at least `min_precedence`.
std::string wrap(const CExpr& e, int min_precedence);

class CPrinter {
 public:
  virtual ~CPrinter() = default;

 protected:
  // ---- names --------------------------------------------------------------------------------
  // Starts a function: forgets all bindings; `reserved` are names no variable may take (module
  // function names, helpers of the prelude) in addition to C++ keywords.
  void reset_names(const std::set<std::string>& reserved);
  // Gives `var` a C name no variable in scope has, until unbind_name() frees it again.
  const std::string& bind_name(const ir::Var& var);
  void unbind_name(const ir::Var& var);
  // bind_name() for a Declare or LetStmt: the name lives until the end of the enclosing C block.
  const std::string& bind_declared_name(const ir::Var& var);
  const std::string& name_of(const ir::ExprNode* var) const;
  // A C identifier made from `hint` that no variable in scope, keyword or reserved name has.
  std::string fresh_name(const std::string& hint);
  // The C name of each of the module's functions (by IR name): the IR name, with a suffix where
  // it is a keyword or in `reserved`. Checks that every function is defined and named once.
  std::map<std::string, std::string> function_names(const ir::Module& module,
                                                    const std::set<std::string>& reserved);

  // ---- types --------------------------------------------------------------------------------
  // The C spelling of a scalar or vector dtype (vectors and f16/bf16 go to the subclass).
  std::string dtype_name(ir::DType dtype);
  virtual std::string half_type_name(ir::DType dtype) = 0;    // f16, bf16 scalars
  virtual std::string vector_type_name(ir::DType dtype) = 0;  // lanes > 1
  // Scalars and vectors by dtype; pointers and tensors as pointers to their element.
  std::string type_name(const ir::Type& type);

  // ---- expressions --------------------------------------------------------------------------
  CExpr print(const ir::Expr& e);
  std::string print_text(const ir::Expr& e) { return print(e).text; }

  virtual CExpr print_float_imm(ir::DType dtype, double value) = 0;
  virtual CExpr print_call(const ir::CallNode* op) = 0;
  // Binary operations spelled as functions: min, max, and `%` on floats.
  virtual CExpr print_binary_function(ir::BinaryOp op, ir::DType dtype, const CExpr& a,
                                      const CExpr& b) = 0;
  virtual CExpr print_cast(const ir::Type& to, const ir::Expr& value);
  // A scalar constant spread over all lanes of a vector dtype.
  virtual CExpr print_broadcast(ir::DType vector_dtype, const CExpr& scalar) = 0;

  // ---- statements ---------------------------------------------------------------------------
  void print_stmt(const ir::Stmt& s);
  void print_for(const ir::ForNode* op);
  // Called around a loop's body (after its pragmas and header are written).
  virtual void enter_loop(const ir::ForNode* op) { (void)op; }
  virtual void exit_loop(const ir::ForNode* op) { (void)op; }
  virtual void print_declare(const ir::DeclareNode* op);
  virtual void print_assert(const ir::AssertNode* op) = 0;
  // Lines such as "#pragma omp parallel for" written before a loop.
  virtual std::vector<std::string> loop_pragmas(const ir::ForNode* op) = 0;

  // The return type of the function being printed (Return statements need it).
  ir::Type current_ret_type_;

  // ---- output -------------------------------------------------------------------------------
  void line(const std::string& text);
  void open_block(const std::string& head);  // "head {", then begin_scope()
  void close_block();                        // end_scope(), then "}"
  void begin_scope();                        // one more level of indentation and of names
  void end_scope();
  std::ostringstream out_;
  int indent_ = 0;

  // Names of prelude pieces the printed code uses ("minmax", "bf16", ...); the subclass emits
  // only those. Vector dtypes used are collected separately, for their typedefs.
  std::set<std::string> required_helpers_;
  std::set<std::pair<int, int>> used_vector_dtypes_;  // (ScalarKind, lanes)

  // A C string literal for `text` (quotes added, special characters escaped).
  static std::string string_literal(const std::string& text);

 private:
  CExpr print_int_imm(ir::DType dtype, int64_t value);
  CExpr print_binary(const ir::BinaryNode* op);
  CExpr print_unary(const ir::UnaryNode* op);
  CExpr print_select(const ir::SelectNode* op);
  CExpr print_element(const ir::Expr& buffer, const std::vector<ir::Expr>& indices,
                      const char* what);
  void print_if(const ir::IfThenElseNode* op, const std::string& lead);
  void print_block_body(const ir::Stmt& body);

  std::set<std::string> used_names_;
  std::unordered_map<const void*, std::vector<std::string>> names_;  // a stack per variable
  std::vector<std::vector<ir::Var>> declared_in_block_;              // unbound at block end
};

}  // namespace taskmap::codegen
