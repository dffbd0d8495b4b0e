// Statement factories and Function construction, with their checks.
#include "taskmap/ir/stmt.h"

#include <cctype>
#include <unordered_set>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"

namespace taskmap::ir {

namespace {

void check_defined(const Expr& e, const char* what) {
  TM_USER_CHECK(e.defined()) << what << " is undefined";
}

void check_index_scalar(const Expr& e, const char* what) {
  check_defined(e, what);
  TM_USER_CHECK(e.type().is_scalar() && e.dtype().is_int() && !e.dtype().is_vector())
      << what << " must be an integer scalar, got " << e.type().str();
}

}  // namespace

Stmt declare(Var var, Expr init, StorageScope scope) {
  check_defined(var, "declared variable");
  if (init.defined()) {
    TM_USER_CHECK(var.type().is_scalar() || var.type().is_pointer())
        << "tensor '" << var.name() << "' cannot have an initial value";
    TM_USER_CHECK(init.type() == var.type())
        << "variable '" << var.name() << "' of type " << var.type().str()
        << " initialized with a value of type " << init.type().str();
  }
  return Stmt(std::make_shared<DeclareNode>(std::move(var), std::move(init), scope));
}

Stmt let_stmt(Var var, Expr value, Stmt body) {
  check_defined(value, "let value");
  TM_USER_CHECK(body.defined()) << "let '" << var.name() << "' has no body";
  TM_USER_CHECK(value.type() == var.type())
      << "let '" << var.name() << "' of type " << var.type().str() << " bound to a value of type "
      << value.type().str();
  return Stmt(std::make_shared<LetStmtNode>(std::move(var), std::move(value), std::move(body)));
}

Stmt assign(Var var, Expr value) {
  check_defined(value, "assigned value");
  TM_USER_CHECK(var.type().is_scalar() || var.type().is_pointer())
      << "assignment to tensor '" << var.name() << "'; store to its elements instead";
  if (value.dtype() != var.dtype() && (value.as<IntImmNode>() || value.as<FloatImmNode>())) {
    value = make_const(var.dtype(), value.as<IntImmNode>()
                                        ? static_cast<double>(value.as<IntImmNode>()->value)
                                        : value.as<FloatImmNode>()->value);
  }
  TM_USER_CHECK(value.type() == var.type()) << "assignment of a " << value.type().str() << " to '"
                                            << var.name() << "' of type " << var.type().str();
  return Stmt(std::make_shared<AssignNode>(std::move(var), std::move(value)));
}

Stmt store(Var buffer, std::vector<Expr> indices, Expr value) {
  check_defined(value, "stored value");
  // Reuse load()'s checks of the buffer and indices.
  Expr element = load(buffer, indices);
  if (value.dtype() != element.dtype() && (value.as<IntImmNode>() || value.as<FloatImmNode>())) {
    value = make_const(element.dtype(), value.as<IntImmNode>()
                                            ? static_cast<double>(value.as<IntImmNode>()->value)
                                            : value.as<FloatImmNode>()->value);
  }
  TM_USER_CHECK(value.dtype() == element.dtype())
      << "store of a " << value.dtype().name() << " value into '" << buffer.name()
      << "' whose elements are " << element.dtype().name();
  return Stmt(std::make_shared<StoreNode>(std::move(buffer), std::move(indices), std::move(value)));
}

Stmt seq(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (Stmt& s : stmts) {
    if (!s.defined()) continue;
    if (const auto* inner = s.as<SeqNode>()) {
      flat.insert(flat.end(), inner->stmts.begin(), inner->stmts.end());
    } else {
      flat.push_back(std::move(s));
    }
  }
  if (flat.size() == 1) return flat[0];
  return Stmt(std::make_shared<SeqNode>(std::move(flat)));
}

Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case) {
  check_defined(cond, "if condition");
  TM_USER_CHECK(cond.dtype() == boolean)
      << "if condition must be a bool, got " << cond.type().str();
  TM_USER_CHECK(then_case.defined()) << "if statement without a then-branch";
  return Stmt(std::make_shared<IfThenElseNode>(std::move(cond), std::move(then_case),
                                               std::move(else_case)));
}

Stmt for_loop(Var var, Expr extent, Stmt body, LoopHint hint) {
  check_index_scalar(var, "loop variable");
  check_index_scalar(extent, "loop extent");
  TM_USER_CHECK(body.defined()) << "loop over '" << var.name() << "' has no body";
  TM_USER_CHECK(hint.kind != LoopKind::unroll || as_const_int(extent))
      << "loop over '" << var.name() << "' is marked unroll but its extent is not a constant";
  return Stmt(std::make_shared<ForNode>(std::move(var), std::move(extent), hint, std::move(body)));
}

Stmt for_mapping(std::vector<Var> vars, TaskMapping mapping, Expr worker, Stmt body) {
  TM_USER_CHECK(mapping.defined()) << "for_mapping with an undefined mapping";
  TM_USER_CHECK(static_cast<int>(vars.size()) == mapping.rank())
      << "mapping " << mapping.str() << " has rank " << mapping.rank() << " but the loop binds "
      << vars.size() << " variables";
  for (const Var& v : vars) check_index_scalar(v, "mapping loop variable");
  check_index_scalar(worker, "mapping worker");
  TM_USER_CHECK(body.defined()) << "for_mapping over " << mapping.str() << " has no body";
  return Stmt(std::make_shared<ForMappingNode>(std::move(vars), std::move(mapping),
                                               std::move(worker), std::move(body)));
}

Stmt evaluate(Expr value) {
  check_defined(value, "evaluated expression");
  return Stmt(std::make_shared<EvaluateNode>(std::move(value)));
}

Stmt return_stmt(Expr value) {
  return Stmt(std::make_shared<ReturnNode>(std::move(value)));
}

Stmt assert_stmt(Expr cond, std::string message) {
  check_defined(cond, "assert condition");
  TM_USER_CHECK(cond.dtype() == boolean) << "assert condition must be a bool";
  return Stmt(std::make_shared<AssertNode>(std::move(cond), std::move(message)));
}

const char* function_kind_name(FunctionKind kind) {
  switch (kind) {
    case FunctionKind::kernel:
      return "kernel";
    case FunctionKind::device:
      return "device";
    case FunctionKind::host:
      return "host";
  }
  return "?";
}

namespace {

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

Function::Function(std::string name, std::vector<Var> params, Stmt body, FunctionKind kind,
                   Type ret_type, std::map<std::string, std::string> attrs) {
  TM_USER_CHECK(is_identifier(name)) << "function name '" << name << "' is not an identifier";
  TM_USER_CHECK(body.defined()) << "function '" << name << "' has no body";
  std::unordered_set<const void*> seen;
  for (const Var& p : params) {
    TM_USER_CHECK(p.defined()) << "function '" << name << "' has an undefined parameter";
    TM_USER_CHECK(seen.insert(p.get()).second)
        << "function '" << name << "' lists parameter '" << p.name() << "' twice";
  }
  for (const Var& v : free_vars(body)) {
    TM_USER_CHECK(seen.count(v.get()))
        << "function '" << name << "' uses variable '" << v.name() << "' of type " << v.type().str()
        << " that is neither a parameter nor declared in it";
  }
  auto node = std::make_shared<FunctionNode>();
  node->name = std::move(name);
  node->params = std::move(params);
  node->body = std::move(body);
  node->kind = kind;
  node->ret_type = std::move(ret_type);
  node->attrs = std::move(attrs);
  node_ = std::move(node);
}

Function Function::with_body(Stmt body) const {
  return Function(node_->name, node_->params, std::move(body), node_->kind, node_->ret_type,
                  node_->attrs);
}

Function Function::with_params_and_body(std::vector<Var> params, Stmt body) const {
  return Function(node_->name, std::move(params), std::move(body), node_->kind, node_->ret_type,
                  node_->attrs);
}

}  // namespace taskmap::ir
