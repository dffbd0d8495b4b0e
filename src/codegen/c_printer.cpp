// CPrinter: names, types, expressions and statements of the C family (see c_printer.h).
// Requires: lowered IR. Guarantees: deterministic output; unlowered nodes are InternalErrors.
#include "codegen/c_printer.h"

#include <cstdint>
#include <limits>

#include "taskmap/error.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

// C++ keywords and alternative tokens, plus names from the standard headers that generated code
// includes, which a variable must not shadow.
const std::set<std::string>& builtin_reserved_names() {
  static const std::set<std::string> names = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char16_t", "char32_t", "char8_t", "class", "compl", "concept",
      "const", "const_cast", "consteval", "constexpr", "constinit", "continue", "co_await",
      "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
      "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
      "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
      "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
      "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
      // types and macros of <cstdint>, <cmath>, <cstdlib>
      "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
      "size_t", "NULL", "NAN", "INFINITY", "INT64_MIN", "INT64_MAX", "errno", "assert", "main",
      "std", "tm", "args", "abort", "free", "malloc"};
  return names;
}

bool is_narrow_int(DType dtype) {
  return !dtype.is_vector() && (dtype.kind() == ScalarKind::i8 || dtype.kind() == ScalarKind::i16 ||
                                dtype.kind() == ScalarKind::u8);
}

// Whether the C type of `e` is 64 bits wide. An i64 expression made only of small literals is
// `int` in C and could overflow where the IR does not.
bool c_is_int64(const Expr& e) {
  if (const auto* imm = e.as<IntImmNode>()) {
    return imm->value < std::numeric_limits<int32_t>::min() ||
           imm->value > std::numeric_limits<int32_t>::max();
  }
  if (const auto* op = e.as<BinaryNode>()) return c_is_int64(op->a) || c_is_int64(op->b);
  if (const auto* op = e.as<UnaryNode>()) return c_is_int64(op->a);
  if (const auto* op = e.as<SelectNode>()) {
    return c_is_int64(op->true_value) || c_is_int64(op->false_value);
  }
  return e.dtype().bits() == 64;
}

struct OperatorSpelling {
  const char* text;
  int precedence;
};

OperatorSpelling binary_spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return {"+", kAdditive};
    case BinaryOp::sub:
      return {"-", kAdditive};
    case BinaryOp::mul:
      return {"*", kMultiplicative};
    case BinaryOp::div:
      return {"/", kMultiplicative};
    case BinaryOp::mod:
      return {"%", kMultiplicative};
    case BinaryOp::bit_and:
      return {"&", kBitAnd};
    case BinaryOp::bit_or:
      return {"|", kBitOr};
    case BinaryOp::bit_xor:
      return {"^", kBitXor};
    case BinaryOp::shl:
      return {"<<", kShift};
    case BinaryOp::shr:
      return {">>", kShift};
    case BinaryOp::lt:
      return {"<", kRelational};
    case BinaryOp::le:
      return {"<=", kRelational};
    case BinaryOp::eq:
      return {"==", kEquality};
    case BinaryOp::ne:
      return {"!=", kEquality};
    case BinaryOp::logical_and:
      return {"&&", kLogicalAnd};
    case BinaryOp::logical_or:
      return {"||", kLogicalOr};
    case BinaryOp::min:
    case BinaryOp::max:
      break;
  }
  TM_UNREACHABLE() << "binary operator " << binary_op_name(op) << " has no C operator";
}

// Parentheses C does not need but a reader does: `a || (b && c)`, `(a & b) | c`, `(a < b) == c`.
bool clarify(int parent, int child) {
  if (child >= kUnary) return false;
  if (parent == kLogicalOr) return child == kLogicalAnd;
  if ((parent >= kBitOr && parent <= kBitAnd) || parent == kShift) return child != parent;
  if (parent == kEquality || parent == kRelational) {
    return child == kEquality || child == kRelational;
  }
  return false;
}

// An operand of a left-associative binary operator: the right one needs parentheses at equal
// precedence too, since `a - (b - c)` and, for floats, `a + (b + c)` must keep their grouping.
std::string operand(const CExpr& e, int parent, bool is_right) {
  if (clarify(parent, e.precedence)) return "(" + e.text + ")";
  return wrap(e, is_right ? parent + 1 : parent);
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A valid, non-reserved C identifier close to `hint`.
std::string sanitize(const std::string& hint) {
  std::string name;
  for (char c : hint) {
    char d = is_identifier_char(c) ? c : '_';
    if (d == '_' && !name.empty() && name.back() == '_') continue;  // `__` is reserved
    name += d;
  }
  if (name.empty() || name == "_") return "v";
  // Leading digits are invalid; `_X` and the prefixes of our own helpers are reserved.
  if ((name[0] >= '0' && name[0] <= '9') ||
      (name[0] == '_' && name.size() > 1 && name[1] >= 'A' && name[1] <= 'Z') ||
      name.rfind("tm_", 0) == 0 || name.rfind("taskmap_", 0) == 0) {
    name = "v" + (name[0] == '_' ? name : "_" + name);
  }
  return name;
}

}  // namespace

std::string wrap(const CExpr& e, int min_precedence) {
  return e.precedence < min_precedence ? "(" + e.text + ")" : e.text;
}

// ---- names ----------------------------------------------------------------------------------

void CPrinter::reset_names(const std::set<std::string>& reserved) {
  used_names_ = builtin_reserved_names();
  used_names_.insert(reserved.begin(), reserved.end());
  names_.clear();
  declared_in_block_.assign(1, {});
}

std::string CPrinter::fresh_name(const std::string& hint) {
  std::string base = sanitize(hint);
  std::string name = base;
  for (int suffix = 1; used_names_.count(name) != 0; ++suffix) {
    name = base + "_" + std::to_string(suffix);
  }
  used_names_.insert(name);
  return name;
}

std::map<std::string, std::string> CPrinter::function_names(const Module& module,
                                                            const std::set<std::string>& reserved) {
  reset_names(reserved);
  std::map<std::string, std::string> c_names;
  for (const Function& fn : module.functions) {
    TM_ASSERT(fn.defined()) << "module '" << module.name << "' holds an undefined function";
    TM_ASSERT(c_names.count(fn->name) == 0)
        << "module '" << module.name << "' defines function '" << fn->name << "' twice";
    c_names[fn->name] = fresh_name(fn->name);
  }
  return c_names;
}

const std::string& CPrinter::bind_name(const Var& var) {
  std::vector<std::string>& stack = names_[var.get()];
  stack.push_back(fresh_name(var.name()));
  return stack.back();
}

const std::string& CPrinter::bind_declared_name(const Var& var) {
  declared_in_block_.back().push_back(var);
  return bind_name(var);
}

void CPrinter::unbind_name(const Var& var) {
  auto it = names_.find(var.get());
  TM_ASSERT(it != names_.end() && !it->second.empty())
      << "unbinding unbound variable " << var.name();
  // The C scope of the name ends here, so a later sibling scope may use it again (the copies of
  // an unrolled loop all read `j`, not `j`, `j_1`, `j_2`).
  used_names_.erase(it->second.back());
  it->second.pop_back();
}

const std::string& CPrinter::name_of(const ExprNode* var) const {
  auto it = names_.find(var);
  TM_ASSERT(it != names_.end() && !it->second.empty())
      << "variable '" << static_cast<const VarNode*>(var)->name
      << "' is used outside its scope (not a parameter and not bound by an enclosing statement)";
  return it->second.back();
}

// ---- types ----------------------------------------------------------------------------------

std::string CPrinter::dtype_name(DType dtype) {
  if (dtype.is_vector()) {
    used_vector_dtypes_.insert({static_cast<int>(dtype.kind()), dtype.lanes()});
    return vector_type_name(dtype);
  }
  switch (dtype.kind()) {
    case ScalarKind::f64:
      return "double";
    case ScalarKind::f32:
      return "float";
    case ScalarKind::f16:
    case ScalarKind::bf16:
      return half_type_name(dtype);
    case ScalarKind::i64:
      return "int64_t";
    case ScalarKind::i32:
      return "int32_t";
    case ScalarKind::i16:
      return "int16_t";
    case ScalarKind::i8:
      return "int8_t";
    case ScalarKind::u8:
      return "uint8_t";
    case ScalarKind::boolean:
      return "bool";
  }
  TM_UNREACHABLE() << "bad dtype " << dtype.name();
}

std::string CPrinter::type_name(const Type& type) {
  switch (type.kind()) {
    case TypeKind::scalar:
      return dtype_name(type.dtype());
    case TypeKind::pointer:
      return type_name(type.pointee()) + "*";
    case TypeKind::tensor:
      return dtype_name(type.dtype()) + "*";
    case TypeKind::void_:
      return "void";
  }
  TM_UNREACHABLE() << "bad type " << type.str();
}

// ---- expressions ----------------------------------------------------------------------------

CExpr CPrinter::print(const Expr& e) {
  TM_ASSERT(e.defined()) << "an undefined expression reached code generation";
  switch (e.kind()) {
    case NodeKind::IntImm: {
      const auto* op = e.as<IntImmNode>();
      CExpr scalar = print_int_imm(op->type.dtype().element(), op->value);
      return e.dtype().is_vector() ? print_broadcast(e.dtype(), scalar) : scalar;
    }
    case NodeKind::FloatImm: {
      const auto* op = e.as<FloatImmNode>();
      CExpr scalar = print_float_imm(op->type.dtype().element(), op->value);
      return e.dtype().is_vector() ? print_broadcast(e.dtype(), scalar) : scalar;
    }
    case NodeKind::Var:
      return {name_of(e.get()), kPrimary};
    case NodeKind::Binary:
      return print_binary(e.as<BinaryNode>());
    case NodeKind::Unary:
      return print_unary(e.as<UnaryNode>());
    case NodeKind::Select:
      return print_select(e.as<SelectNode>());
    case NodeKind::Cast:
      return print_cast(e.type(), e.as<CastNode>()->value);
    case NodeKind::Load: {
      const auto* op = e.as<LoadNode>();
      return print_element(op->buffer, op->indices, "Load");
    }
    case NodeKind::Address: {
      const auto* op = e.as<AddressNode>();
      return {"&" + print_element(op->buffer, op->indices, "Address").text, kUnary};
    }
    case NodeKind::Call:
      return print_call(e.as<CallNode>());
    default:  // Compute, Reduce
      break;
  }
  TM_UNREACHABLE() << "an unlowered " << node_kind_name(e.kind())
                   << " expression reached code generation (lower the task first)";
}

CExpr CPrinter::print_int_imm(DType dtype, int64_t value) {
  if (dtype.is_bool()) return {value != 0 ? "true" : "false", kPrimary};
  // The literal 9223372036854775808 does not exist in C, so its negation cannot be written.
  if (value == std::numeric_limits<int64_t>::min()) return {"INT64_MIN", kPrimary};
  return {std::to_string(value), value < 0 ? kUnary : kPrimary};
}

CExpr CPrinter::print_binary(const BinaryNode* op) {
  DType dtype = op->a.dtype();
  CExpr a = print(op->a);
  CExpr b = print(op->b);
  bool is_float_mod = op->op == BinaryOp::mod && dtype.is_float();
  if (op->op == BinaryOp::min || op->op == BinaryOp::max || is_float_mod) {
    return print_binary_function(op->op, dtype, a, b);
  }
  OperatorSpelling spelling = binary_spelling(op->op);
  bool arithmetic = op->op == BinaryOp::add || op->op == BinaryOp::sub || op->op == BinaryOp::mul ||
                    op->op == BinaryOp::shl;
  if (arithmetic && dtype == i64 && !c_is_int64(op->a) && !c_is_int64(op->b)) {
    // Both operands are `int` in C: widen the left one so the operation happens in 64 bits.
    a = op->a.as<IntImmNode>() ? CExpr{a.text + "L", a.precedence}
                               : CExpr{"static_cast<int64_t>(" + a.text + ")", kPostfix};
  }
  CExpr result{operand(a, spelling.precedence, false) + " " + spelling.text + " " +
                   operand(b, spelling.precedence, true),
               spelling.precedence};
  // C computes narrow integers in `int`; the IR wraps them at their own width.
  if (is_narrow_int(dtype) && (arithmetic || op->op == BinaryOp::div)) {
    return {"static_cast<" + dtype_name(dtype) + ">(" + result.text + ")", kPostfix};
  }
  return result;
}

CExpr CPrinter::print_unary(const UnaryNode* op) {
  CExpr a = print(op->a);
  std::string text = wrap(a, kUnary);
  switch (op->op) {
    case UnaryOp::neg: {
      if (text[0] == '-') text = "(" + text + ")";  // `-(-1)`, not the decrement `--1`
      CExpr result{"-" + text, kUnary};
      if (is_narrow_int(op->a.dtype())) {
        return {"static_cast<" + dtype_name(op->a.dtype()) + ">(" + result.text + ")", kPostfix};
      }
      return result;
    }
    case UnaryOp::logical_not:
      return {"!" + text, kUnary};
    case UnaryOp::bit_not:
      return {"~" + text, kUnary};
  }
  TM_UNREACHABLE() << "bad unary operator";
}

CExpr CPrinter::print_select(const SelectNode* op) {
  // Parentheses C does not need, for the reader: around a condition joined by && or ||, and
  // around nested conditionals.
  return {wrap(print(op->cond), kBitOr) + " ? " + wrap(print(op->true_value), kTernary + 1) +
              " : " + wrap(print(op->false_value), kTernary + 1),
          kTernary};
}

CExpr CPrinter::print_cast(const Type& to, const Expr& value) {
  CExpr inner = print(value);
  if (to.is_pointer() || to.is_tensor()) {
    return {"reinterpret_cast<" + type_name(to) + ">(" + inner.text + ")", kPostfix};
  }
  return {"static_cast<" + type_name(to) + ">(" + inner.text + ")", kPostfix};
}

CExpr CPrinter::print_element(const Expr& buffer, const std::vector<Expr>& indices,
                              const char* what) {
  TM_ASSERT(indices.size() == 1) << "a " << what << " with " << indices.size() << " indices on '"
                                 << print_text(buffer)
                                 << "' reached code generation (flatten the tensor indices first)";
  TM_ASSERT(buffer.type().is_tensor() || buffer.type().is_pointer())
      << "a " << what << " on '" << print_text(buffer) << "' of type " << buffer.type().str()
      << ", which is neither a tensor nor a pointer";
  return {wrap(print(buffer), kPostfix) + "[" + print_text(indices[0]) + "]", kPostfix};
}

std::string CPrinter::string_literal(const std::string& text) {
  std::string quoted = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char octal[8];
          std::snprintf(octal, sizeof(octal), "\\%03o", c);
          quoted += octal;
        } else {
          quoted += static_cast<char>(c);
        }
    }
  }
  return quoted + "\"";
}

}  // namespace taskmap::codegen
