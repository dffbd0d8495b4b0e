#pragma once
// The kernel builder: the C++ "script" in which schedule templates are written. It builds IR
// imperatively, with lambdas for nested scopes:
//
//   KernelBuilder kb("add_relu");
//   Var a = kb.param("a", Type::tensor(f32, {64, 64}));
//   Var c = kb.param("c", Type::tensor(f32, {64, 64}));
//   kb.for_range("w", 8, LoopHint::parallel(), [&](Expr w) {
//     kb.for_mapping(spatial({8, 1}) * repeat({1, 64}), w, [&](const Index& ij) {
//       kb.store(c, ij, max(load(a, ij), 0.0f));
//     });
//   });
//   Function f = kb.build();
//
// build() verifies the kernel (verify_kernel): a mapping driven by a worker range larger than its
// worker count, or tensor indices that can leave their dimension, is a UserError naming the
// kernel, the tensor and the mapping — a malformed template fails here, not at run time.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/layout.h"
#include "taskmap/ir/mapping.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::lang {

using ir::Axes;
using ir::DType;
using ir::Expr;
using ir::Function;
using ir::Index;
using ir::Layout;
using ir::LoopHint;
using ir::Stmt;
using ir::TaskMapping;
using ir::Type;
using ir::Var;

// Shorthands that read like the paper.
inline TaskMapping spatial(std::vector<int64_t> shape) {
  return TaskMapping::spatial(std::move(shape));
}
inline TaskMapping repeat(std::vector<int64_t> shape, std::vector<LoopHint> hints = {}) {
  return TaskMapping::repeat(std::move(shape), {}, std::move(hints));
}

class KernelBuilder {
 public:
  explicit KernelBuilder(std::string name, ir::FunctionKind kind = ir::FunctionKind::kernel);

  Var param(std::string name, Type type);
  // Adopts existing variables as parameters (e.g. task.params()).
  void params(const std::vector<Var>& vars);

  // A mutable scalar.
  Var scalar(std::string name, DType dtype, Expr init = {});
  // A register tile: stored with `layout`, indexed with the layout's (global) coordinates.
  Var register_tensor(std::string name, DType dtype, Layout layout);
  // A temporary on the heap (for buffers too large for the stack), freed when the kernel returns.
  Var heap_tensor(std::string name, DType dtype, std::vector<int64_t> shape);
  // A tensor in a CUDA block's shared memory, one copy per block (CUDA kernels only).
  Var shared_tensor(std::string name, DType dtype, std::vector<int64_t> shape);

  void for_range(std::string var_name, Expr extent, LoopHint hint,
                 const std::function<void(const Var&)>& body);
  void for_range(std::string var_name, Expr extent, const std::function<void(const Var&)>& body) {
    for_range(std::move(var_name), std::move(extent), LoopHint::serial(), body);
  }
  // Runs `body` over the tasks of `worker` under `mapping`; `names` name the task coordinates
  // (default i, j, k, l).
  void for_mapping(const TaskMapping& mapping, Expr worker,
                   const std::function<void(const Index&)>& body,
                   std::vector<std::string> names = {});
  // Names `value` for `body`. A bound proven for the name (from an enclosing `if name < c`)
  // holds for every expression over it, which an unnamed expression does not get.
  void let(std::string name, Expr value, const std::function<void(const Var&)>& body);
  void if_then(Expr cond, const std::function<void()>& then_body);
  void if_then_else(Expr cond, const std::function<void()>& then_body,
                    const std::function<void()>& else_body);

  void store(const Var& buffer, std::vector<Expr> indices, Expr value);
  void assign(const Var& var, Expr value);
  void evaluate(Expr value);
  void append(Stmt stmt);

  // Annotations shown at the top of the generated source ("task", "config", ...).
  void attr(std::string key, std::string value);

  // Finishes the function and verifies it. The builder cannot be used afterwards.
  Function build();

 private:
  Stmt scope(const std::function<void()>& body);

  std::string name_;
  ir::FunctionKind kind_;
  std::vector<Var> params_;
  std::vector<std::vector<Stmt>> stack_;
  std::map<std::string, std::string> attrs_;
  bool built_ = false;
};

// Checks a kernel the way build() does: every ForMapping's worker stays below the mapping's
// worker count, and every tensor index provably stays inside its dimension (conditions of
// enclosing `if`s of the form `e < c` are used). A failure is a UserError naming the kernel.
void verify_kernel(const Function& f);

}  // namespace taskmap::lang
