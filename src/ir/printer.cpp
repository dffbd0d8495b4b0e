// The IR text printer. Deterministic: variables get unique display names in order of first
// appearance, so the same IR always prints the same text (pass tests compare printed text).
#include "taskmap/ir/printer.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::ir {
namespace {

// C-like precedence, higher binds tighter.
int binary_precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::mul:
    case BinaryOp::div:
    case BinaryOp::mod:
      return 10;
    case BinaryOp::add:
    case BinaryOp::sub:
      return 9;
    case BinaryOp::shl:
    case BinaryOp::shr:
      return 8;
    case BinaryOp::lt:
    case BinaryOp::le:
      return 7;
    case BinaryOp::eq:
    case BinaryOp::ne:
      return 6;
    case BinaryOp::bit_and:
      return 5;
    case BinaryOp::bit_xor:
      return 4;
    case BinaryOp::bit_or:
      return 3;
    case BinaryOp::logical_and:
      return 2;
    case BinaryOp::logical_or:
      return 1;
    case BinaryOp::min:
    case BinaryOp::max:
      return 100;  // printed as calls
  }
  return 100;
}

int precedence(const Expr& e) {
  if (const auto* b = e.as<BinaryNode>()) return binary_precedence(b->op);
  if (e.as<UnaryNode>()) return 11;
  if (const auto* i = e.as<IntImmNode>()) return i->value < 0 ? 11 : 100;
  if (const auto* f = e.as<FloatImmNode>()) return f->value < 0 ? 11 : 100;
  return 100;
}

std::string format_float(double v, DType dtype) {
  if (std::isnan(v)) return dtype.name() + "(nan)";
  if (std::isinf(v)) return dtype.name() + (v > 0 ? "(inf)" : "(-inf)");
  char buf[64];
  std::snprintf(buf, sizeof(buf), dtype == f32 ? "%.9g" : "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  if (dtype == f32) return s + "f";
  if (dtype == f64) return s;
  return dtype.name() + "(" + s + ")";
}

class Printer : public IRVisitor {
 public:
  std::ostringstream os;

  std::string name_of(const Expr& v) { return name_for(v.as<VarNode>()); }

  std::string name_for(const VarNode* node) {
    auto it = names_.find(node);
    if (it != names_.end()) return it->second;
    std::string base = node->name, name = base;
    for (int k = 1; used_names_.count(name); ++k) name = base + "_" + std::to_string(k);
    used_names_.insert(name);
    names_[node] = name;
    return name;
  }

  void print_expr(const Expr& e) { visit(e); }

  void print_operand(const Expr& e, int parent, bool right) {
    int p = precedence(e);
    bool paren = p < parent || (right && p == parent);
    if (paren) os << "(";
    visit(e);
    if (paren) os << ")";
  }

  void print_list(const std::vector<Expr>& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) os << ", ";
      visit(list[i]);
    }
  }

  void print_buffer(const Expr& b) {
    if (const auto* c = b.as<ComputeNode>()) {
      os << c->name;
    } else {
      visit(b);
    }
  }

  void indent() { os << std::string(static_cast<size_t>(depth_) * 2, ' '); }

  void print_block(const Stmt& body) {
    os << " {\n";
    ++depth_;
    visit(body);
    --depth_;
    indent();
    os << "}";
  }

  void print_function(const Function& f) {
    os << function_kind_name(f->kind) << " " << f->name << "(";
    for (size_t i = 0; i < f->params.size(); ++i) {
      if (i) os << ", ";
      os << name_of(f->params[i]) << ": " << f->params[i].type().str();
    }
    os << ")";
    if (!f->ret_type.is_void()) os << " -> " << f->ret_type.str();
    print_block(f->body);
    os << "\n";
  }

  using IRVisitor::visit;

 protected:
  void visit_IntImm(const IntImmNode* op) override {
    if (op->type.dtype() == boolean) {
      os << (op->value ? "true" : "false");
    } else if (op->type.dtype() == index_dtype) {
      os << op->value;
    } else {
      os << op->type.dtype().name() << "(" << op->value << ")";
    }
  }
  void visit_FloatImm(const FloatImmNode* op) override {
    os << format_float(op->value, op->type.dtype());
  }
  void visit_Var(const VarNode* op) override { os << name_for(op); }
  void visit_Binary(const BinaryNode* op) override {
    if (op->op == BinaryOp::min || op->op == BinaryOp::max) {
      os << binary_op_name(op->op) << "(";
      visit(op->a);
      os << ", ";
      visit(op->b);
      os << ")";
      return;
    }
    int p = binary_precedence(op->op);
    print_operand(op->a, p, false);
    os << " " << binary_op_name(op->op) << " ";
    print_operand(op->b, p, true);
  }
  void visit_Unary(const UnaryNode* op) override {
    os << unary_op_name(op->op);
    // `-(-4)` and `-(-x)` must not print as `--4`, which reads as a decrement.
    bool nested_sign = op->op == UnaryOp::neg && (precedence(op->a) == 11);
    if (nested_sign) os << "(";
    print_operand(op->a, 11, false);
    if (nested_sign) os << ")";
  }
  void visit_Select(const SelectNode* op) override {
    os << "select(";
    print_list({op->cond, op->true_value, op->false_value});
    os << ")";
  }
  void visit_Cast(const CastNode* op) override {
    os << op->type.str() << "(";
    visit(op->value);
    os << ")";
  }
  void visit_Load(const LoadNode* op) override {
    print_buffer(op->buffer);
    os << "[";
    print_list(op->indices);
    os << "]";
  }
  void visit_Address(const AddressNode* op) override {
    os << "&";
    print_buffer(op->buffer);
    os << "[";
    print_list(op->indices);
    os << "]";
  }
  void visit_Call(const CallNode* op) override {
    os << op->callee->name;
    if (op->callee->result == PrimitiveResult::explicit_type) os << "<" << op->type.str() << ">";
    os << "(";
    print_list(op->args);
    os << ")";
  }
  void visit_Compute(const ComputeNode* op) override {
    os << "compute " << op->name << "[";
    for (size_t i = 0; i < op->axes.size(); ++i) {
      if (i) os << ", ";
      visit(op->axes[i]);
      os << " < " << op->type.shape()[i];
    }
    os << "] = ";
    visit(op->value);
  }
  void visit_Reduce(const ReduceNode* op) override {
    os << reduce_op_name(op->op) << "([";
    for (size_t i = 0; i < op->axes.size(); ++i) {
      if (i) os << ", ";
      visit(op->axes[i]);
      os << " < " << op->extents[i];
    }
    os << "], ";
    visit(op->value);
    if (op->accumulate != op->value.dtype()) os << ", acc=" << op->accumulate.name();
    os << ")";
  }

  void visit_Declare(const DeclareNode* op) override {
    indent();
    os << "declare "
       << (op->scope == StorageScope::heap     ? "heap "
           : op->scope == StorageScope::shared ? "shared "
                                               : "");
    visit(op->var);
    os << ": " << op->var.type().str();
    if (op->init.defined()) {
      os << " = ";
      visit(op->init);
    }
    os << "\n";
  }
  void visit_LetStmt(const LetStmtNode* op) override {
    indent();
    os << "let ";
    visit(op->var);
    os << ": " << op->var.type().str() << " = ";
    visit(op->value);
    os << "\n";
    visit(op->body);
  }
  void visit_Assign(const AssignNode* op) override {
    indent();
    visit(op->var);
    os << " = ";
    visit(op->value);
    os << "\n";
  }
  void visit_Store(const StoreNode* op) override {
    indent();
    visit(op->buffer);
    os << "[";
    print_list(op->indices);
    os << "] = ";
    visit(op->value);
    os << "\n";
  }
  void visit_Seq(const SeqNode* op) override {
    for (const Stmt& s : op->stmts) visit(s);
  }
  void visit_IfThenElse(const IfThenElseNode* op) override {
    indent();
    os << "if ";
    visit(op->cond);
    print_block(op->then_case);
    if (op->else_case.defined()) {
      os << " else";
      print_block(op->else_case);
    }
    os << "\n";
  }
  void visit_For(const ForNode* op) override {
    indent();
    os << "for ";
    visit(op->var);
    os << " in range(";
    visit(op->extent);
    os << ")";
    if (op->hint.kind != LoopKind::serial) os << " " << op->hint.str();
    print_block(op->body);
    os << "\n";
  }
  void visit_ForMapping(const ForMappingNode* op) override {
    indent();
    os << "for (";
    for (size_t i = 0; i < op->vars.size(); ++i) {
      if (i) os << ", ";
      visit(op->vars[i]);
    }
    os << ") in " << op->mapping.str() << " on ";
    visit(op->worker);
    print_block(op->body);
    os << "\n";
  }
  void visit_Evaluate(const EvaluateNode* op) override {
    indent();
    visit(op->value);
    os << "\n";
  }
  void visit_Return(const ReturnNode* op) override {
    indent();
    os << "return";
    if (op->value.defined()) {
      os << " ";
      visit(op->value);
    }
    os << "\n";
  }
  void visit_Assert(const AssertNode* op) override {
    indent();
    os << "assert ";
    visit(op->cond);
    os << ", \"" << op->message << "\"\n";
  }

 private:
  int depth_ = 0;
  std::unordered_map<const void*, std::string> names_;
  std::unordered_set<std::string> used_names_;
};

}  // namespace

std::string to_string(const Expr& e) {
  if (!e.defined()) return "<undefined>";
  Printer p;
  p.print_expr(e);
  return p.os.str();
}

std::string to_string(const Stmt& s) {
  if (!s.defined()) return "<undefined>";
  Printer p;
  p.visit(s);
  return p.os.str();
}

std::string to_string(const Function& f) {
  Printer p;
  p.print_function(f);
  return p.os.str();
}

std::string to_string(const Module& m) {
  Printer p;
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (i) p.os << "\n";
    p.print_function(m.functions[i]);
  }
  return p.os.str();
}

std::ostream& operator<<(std::ostream& os, const Expr& e) {
  return os << to_string(e);
}
std::ostream& operator<<(std::ostream& os, const Stmt& s) {
  return os << to_string(s);
}
std::ostream& operator<<(std::ostream& os, const Function& f) {
  return os << to_string(f);
}

}  // namespace taskmap::ir
