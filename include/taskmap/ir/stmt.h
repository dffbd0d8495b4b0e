#pragma once
// IR statements, functions and modules. Same rules as expressions: immutable nodes made by
// validating factories.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taskmap/ir/expr.h"
#include "taskmap/ir/loop_hint.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {

struct StmtNode {
  explicit StmtNode(NodeKind kind) : kind(kind) {}
  virtual ~StmtNode() = default;
  const NodeKind kind;
};

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(std::shared_ptr<const StmtNode> node) : node_(std::move(node)) {}
  bool defined() const { return node_ != nullptr; }
  const StmtNode* get() const { return node_.get(); }
  const StmtNode* operator->() const { return node_.get(); }
  NodeKind kind() const { return node_->kind; }
  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kind_value ? static_cast<const T*>(node_.get()) : nullptr;
  }
  bool same_as(const Stmt& other) const { return node_ == other.node_; }

 private:
  std::shared_ptr<const StmtNode> node_;
};

#define TASKMAP_NODE_KIND(name) static constexpr NodeKind kind_value = NodeKind::name;

// Where a declared tensor lives: `local` arrays are on the stack / in registers (register tiles);
// `heap` tensors are temporaries too large for the stack, freed when the function returns;
// `shared` tensors are in a CUDA block's shared memory, one copy per block (CUDA only).
enum class StorageScope : uint8_t { local, heap, shared };

// Declares a mutable variable (scalar, with an optional initial value) or a tensor.
struct DeclareNode : StmtNode {
  TASKMAP_NODE_KIND(Declare)
  DeclareNode(Var var, Expr init, StorageScope scope)
      : StmtNode(kind_value), var(std::move(var)), init(std::move(init)), scope(scope) {}
  const Var var;
  const Expr init;  // may be undefined
  const StorageScope scope;
};

// Binds an immutable variable to a value within `body`.
struct LetStmtNode : StmtNode {
  TASKMAP_NODE_KIND(LetStmt)
  LetStmtNode(Var var, Expr value, Stmt body)
      : StmtNode(kind_value), var(std::move(var)), value(std::move(value)), body(std::move(body)) {}
  const Var var;
  const Expr value;
  const Stmt body;
};

struct AssignNode : StmtNode {
  TASKMAP_NODE_KIND(Assign)
  AssignNode(Var var, Expr value)
      : StmtNode(kind_value), var(std::move(var)), value(std::move(value)) {}
  const Var var;
  const Expr value;
};

struct StoreNode : StmtNode {
  TASKMAP_NODE_KIND(Store)
  StoreNode(Var buffer, std::vector<Expr> indices, Expr value)
      : StmtNode(kind_value),
        buffer(std::move(buffer)),
        indices(std::move(indices)),
        value(std::move(value)) {}
  const Var buffer;
  const std::vector<Expr> indices;
  const Expr value;
};

struct SeqNode : StmtNode {
  TASKMAP_NODE_KIND(Seq)
  explicit SeqNode(std::vector<Stmt> stmts) : StmtNode(kind_value), stmts(std::move(stmts)) {}
  const std::vector<Stmt> stmts;
};

struct IfThenElseNode : StmtNode {
  TASKMAP_NODE_KIND(IfThenElse)
  IfThenElseNode(Expr cond, Stmt then_case, Stmt else_case)
      : StmtNode(kind_value),
        cond(std::move(cond)),
        then_case(std::move(then_case)),
        else_case(std::move(else_case)) {}
  const Expr cond;
  const Stmt then_case;
  const Stmt else_case;  // may be undefined
};

// for var in [0, extent): body
struct ForNode : StmtNode {
  TASKMAP_NODE_KIND(For)
  ForNode(Var var, Expr extent, LoopHint hint, Stmt body)
      : StmtNode(kind_value),
        var(std::move(var)),
        extent(std::move(extent)),
        hint(hint),
        body(std::move(body)) {}
  const Var var;
  const Expr extent;
  const LoopHint hint;
  const Stmt body;
};

// Runs `body` for each task of `worker` under `mapping`, in the mapping's order, with `vars`
// bound to the task's coordinates.
struct ForMappingNode : StmtNode {
  TASKMAP_NODE_KIND(ForMapping)
  ForMappingNode(std::vector<Var> vars, TaskMapping mapping, Expr worker, Stmt body)
      : StmtNode(kind_value),
        vars(std::move(vars)),
        mapping(std::move(mapping)),
        worker(std::move(worker)),
        body(std::move(body)) {}
  const std::vector<Var> vars;
  const TaskMapping mapping;
  const Expr worker;
  const Stmt body;
};

struct EvaluateNode : StmtNode {
  TASKMAP_NODE_KIND(Evaluate)
  explicit EvaluateNode(Expr value) : StmtNode(kind_value), value(std::move(value)) {}
  const Expr value;
};

struct ReturnNode : StmtNode {
  TASKMAP_NODE_KIND(Return)
  explicit ReturnNode(Expr value) : StmtNode(kind_value), value(std::move(value)) {}
  const Expr value;  // may be undefined
};

struct AssertNode : StmtNode {
  TASKMAP_NODE_KIND(Assert)
  AssertNode(Expr cond, std::string message)
      : StmtNode(kind_value), cond(std::move(cond)), message(std::move(message)) {}
  const Expr cond;
  const std::string message;
};

#undef TASKMAP_NODE_KIND

// ---- factories ----------------------------------------------------------------------------

Stmt declare(Var var, Expr init = {}, StorageScope scope = StorageScope::local);
Stmt let_stmt(Var var, Expr value, Stmt body);
Stmt assign(Var var, Expr value);
Stmt store(Var buffer, std::vector<Expr> indices, Expr value);
// Flattens nested sequences and drops undefined statements; a single statement is returned as is.
Stmt seq(std::vector<Stmt> stmts);
Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case = {});
Stmt for_loop(Var var, Expr extent, Stmt body, LoopHint hint = {});
// `vars` must match the mapping's rank and `worker` must be an integer.
Stmt for_mapping(std::vector<Var> vars, TaskMapping mapping, Expr worker, Stmt body);
Stmt evaluate(Expr value);
Stmt return_stmt(Expr value = {});
Stmt assert_stmt(Expr cond, std::string message);

// ---- functions and modules ----------------------------------------------------------------

enum class FunctionKind : uint8_t {
  kernel,  // entry point of a compiled kernel: tensor params are pointers to global memory
  device,  // helper called from kernels
  host,    // host-side driver (allocates temporaries, calls kernels)
};
const char* function_kind_name(FunctionKind kind);

struct FunctionNode {
  std::string name;
  std::vector<Var> params;
  Stmt body;
  FunctionKind kind;
  Type ret_type;
  // Free-form annotations shown in the generated code's header comment ("task", "config").
  std::map<std::string, std::string> attrs;
};

class Function {
 public:
  Function() = default;
  // Checks: a C identifier as name, distinct params, every free variable of the body is a param.
  Function(std::string name, std::vector<Var> params, Stmt body,
           FunctionKind kind = FunctionKind::kernel, Type ret_type = Type::void_type(),
           std::map<std::string, std::string> attrs = {});
  bool defined() const { return node_ != nullptr; }
  const FunctionNode* operator->() const { return node_.get(); }
  const FunctionNode* get() const { return node_.get(); }
  // A copy with another body (params, kind and attrs kept).
  Function with_body(Stmt body) const;
  Function with_params_and_body(std::vector<Var> params, Stmt body) const;

 private:
  std::shared_ptr<const FunctionNode> node_;
};

// A task's kernels, run in order. Besides the task's parameters each takes the workspace
// tensors, in order: buffers the kernels hand data through (split-k's partial sums), which the
// runtime provides for the task's step, their contents undefined at the start.
struct Module {
  std::string name;
  std::vector<Function> functions;
  std::vector<Var> workspace = {};
};

}  // namespace taskmap::ir
