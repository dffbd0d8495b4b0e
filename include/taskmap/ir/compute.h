#pragma once
// Compute definitions and Tasks (DESIGN.md "Task and compute"; hidet-design.md §4.1–4.2).
//
// A task states *what* an operator computes, independent of any schedule:
//   Var a = tensor_input("a", f32, {M, K});
//   Var b = tensor_input("b", f32, {K, N});
//   Expr c = compute("c", {M, N}, [&](const Index& ij) {
//     return reduce(ReduceOp::sum, {K}, [&](const Index& k) {
//       return load(a, {ij[0], k[0]}) * load(b, {k[0], ij[1]});
//     });
//   });
//   Task task("matmul", {a, b}, {c});
// Schedule templates and the auto-scheduler turn a Task into a kernel Function whose parameters
// are task.params(): the inputs, then one buffer per output.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/expr.h"

namespace taskmap::ir {

using Axes = std::vector<Var>;
// Task coordinates handed to compute / reduce / for_mapping bodies, ready to index tensors.
using Index = std::vector<Expr>;

// Row-major position of `index` in `shape`, and back. unravel_index gives unit dims 0 and leaves
// the outermost other dim unreduced (flat / stride, no modulo), so bound analysis derives its
// range from flat's; both assume flat lies in the shape.
Expr flat_index(const Index& index, const std::vector<int64_t>& shape);
Index unravel_index(const Expr& flat, const std::vector<int64_t>& shape);

// A tensor input of a task (a tensor-typed Var, row-major).
Var tensor_input(std::string name, DType dtype, std::vector<int64_t> shape);

// The tensor whose element `axes` is fn(axes). `fn` may read inputs and other computes with
// load(), and may contain reduce() expressions.
Expr compute(std::string name, std::vector<int64_t> shape,
             const std::function<Expr(const Index&)>& fn);

// A reduction over fresh axes of the given extents. The accumulator dtype defaults to the
// value's dtype (f32 for f16 / bf16). argmax / argmin give the row-major position (i64) of the
// first extreme element.
Expr reduce(ReduceOp op, std::vector<int64_t> extents, const std::function<Expr(const Index&)>& fn,
            std::optional<DType> accumulate = std::nullopt);

// For an input of an injective task: the output element that input element `input_axes`
// contributes to (elementwise: the same index; transpose: the permuted index).
struct InverseMap {
  Axes input_axes;
  std::vector<Expr> output_index;
};

struct TaskInputInfo {
  std::optional<InverseMap> inverse_map;
};

class Task {
 public:
  Task() = default;
  // Checks that every tensor the outputs read is an input or a compute, and that the inputs
  // are distinct tensor-typed variables. `inverse_maps`, when given, has one entry per input.
  Task(std::string name, std::vector<Var> inputs, std::vector<Expr> outputs,
       std::map<std::string, std::string> attrs = {},
       std::vector<std::optional<InverseMap>> inverse_maps = {});

  const std::string& name() const { return name_; }
  const std::vector<Var>& inputs() const { return inputs_; }
  const std::vector<Expr>& outputs() const { return outputs_; }  // Compute nodes
  const std::map<std::string, std::string>& attrs() const { return attrs_; }
  const std::optional<InverseMap>& inverse_map(size_t input) const;

  // One buffer variable per output, named after the output compute, row-major.
  const std::vector<Var>& output_params() const { return output_params_; }
  // inputs() followed by output_params(): the parameters of every kernel implementing the task.
  std::vector<Var> params() const;

  // No reduction anywhere in the outputs.
  bool is_injective() const;
  // Fusion permissions; the defaults allow both. A template that takes addresses of its
  // inputs or outputs turns them off.
  bool allow_prologue() const { return allow_prologue_; }
  bool allow_epilogue() const { return allow_epilogue_; }
  Task& set_fusion(bool allow_prologue, bool allow_epilogue);

  // The printed definition: inputs, every compute (dependencies first), attributes. Two tasks
  // with equal text compute the same thing; the build cache keys on it.
  std::string str() const;

 private:
  std::string name_;
  std::vector<Var> inputs_;
  std::vector<Expr> outputs_;
  std::vector<Var> output_params_;
  std::map<std::string, std::string> attrs_;
  std::vector<std::optional<InverseMap>> inverse_maps_;
  bool allow_prologue_ = true;
  bool allow_epilogue_ = true;
};

// Calls `fn` on each load of a compute in `e` (its indices visited too), not entering the
// computes' own values.
void visit_compute_loads(const Expr& e, const std::function<void(const LoadNode*)>& fn);
// The computes reachable from `outputs` (through loads), dependencies before users.
std::vector<Expr> collect_computes(const std::vector<Expr>& outputs);
// True if `e` contains a Reduce (not looking through loads of other computes).
bool contains_reduce(const Expr& e);

}  // namespace taskmap::ir
