#pragma once
// Operator definitions: how each operator type computes its outputs.
//
// An operator is defined by `lower`: the outputs as compute expressions (ir/compute.h) over the
// inputs, for concrete input shapes. Everything else derives from it:
//   - shape and dtype inference: the computes' shapes and dtypes;
//   - kernels: the Task of those computes, implemented by a template or the auto-scheduler;
//   - constant folding: the same computes, interpreted on the constant inputs.
// Operators that cannot be written as computes (NonZero: the output shape depends on the data)
// give `infer` and `evaluate` instead and run on the host.
//
//   OpDef relu{"Relu"};
//   relu.lower = [](const OpContext& ctx) -> Outputs {
//     ir::Var x = ctx.param(0);
//     return {ir::compute("relu", ctx.shape(0), [&](const ir::Index& i) {
//       return ir::max(ir::load(x, i), ir::zero_of(ctx.dtype(0)));   // sketch
//     })};
//   };
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/error.h"
#include "taskmap/graph/graph.h"
#include "taskmap/ir/compute.h"

namespace taskmap::graph {

// Thrown by OpContext::value when the input's data is not known at compile time. The compiler
// catches it: it specializes on that tensor's value at run time (see compiler/model.h).
class ValueNeeded : public UserError {
 public:
  ValueNeeded(Tensor tensor, const std::string& message) : UserError(message), tensor(tensor) {}
  Tensor tensor;
};

// What an operator definition sees of one node: inputs with concrete shapes, constant values,
// attributes. Errors it raises name the node, the op type and the model file.
class OpContext {
 public:
  OpContext(const OperatorNode& op, std::string source = "");

  const OperatorNode& op() const { return op_; }
  const std::string& type() const { return op_.type; }
  int opset() const { return op_.opset; }  // 0 when not from ONNX: the newest behaviour

  // Inputs. Omitted optional inputs (and those past the end) are absent.
  int num_inputs() const { return static_cast<int>(op_.inputs.size()); }
  bool has_input(int i) const;
  const Tensor& input(int i) const;  // a UserError when absent
  ir::DType dtype(int i) const;
  const std::vector<int64_t>& shape(int i) const;  // concrete (a UserError for unknown dims)
  int64_t rank(int i) const { return static_cast<int64_t>(shape(i).size()); }

  // The constant data of input i; throws ValueNeeded when it is only known at run time.
  bool has_value(int i) const;
  const NDArray& value(int i) const;
  std::vector<int64_t> value_ints(int i) const;  // an integer input's elements
  double value_scalar(int i) const;              // a one-element input as a double

  // Outputs the node asks for (the ONNX node's output count; trailing optional ones may be absent).
  int num_outputs() const { return static_cast<int>(op_.outputs.size()); }
  bool has_output(int k) const;

  // Attributes. The forms without a default make a missing attribute a UserError; a value of the
  // wrong kind is always one.
  bool has_attr(const std::string& name) const;
  int64_t attr_int(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  double attr_float(const std::string& name, double fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  std::vector<int64_t> attr_ints(const std::string& name,
                                 const std::vector<int64_t>& fallback) const;
  std::vector<double> attr_floats(const std::string& name,
                                  const std::vector<double>& fallback) const;
  std::vector<std::string> attr_strings(const std::string& name,
                                        const std::vector<std::string>& fallback) const;
  const NDArray& attr_tensor(const std::string& name) const;

  // The kernel parameter standing for input i: a tensor-typed Var with its dtype and shape,
  // created on first use. Only inputs read through param() become kernel arguments.
  ir::Var param(int i) const;
  // The inputs param() was called for, in input order.
  std::vector<int> used_params() const;

  // "<file>: node 'conv1' (Conv): " for messages.
  std::string where() const;

 private:
  const OperatorNode& op_;
  std::string source_;
  mutable std::map<int, ir::Var> params_;
  mutable std::map<int, std::vector<int64_t>> shapes_;
};

// A UserError whose message starts with ctx.where():  TM_OP_CHECK(ctx, k > 0) << "k must be > 0";
#define TM_OP_CHECK(ctx, cond) TM_USER_CHECK(cond) << (ctx).where()
#define TM_OP_ERROR(ctx) TM_USER_ERROR() << (ctx).where()

// The output of an operator at compile time: its dtype and shape.
struct OutputType {
  ir::DType dtype;
  std::vector<int64_t> shape;
};

using Outputs = std::vector<ir::Expr>;  // Compute nodes, one per output

struct OpDef {
  explicit OpDef(std::string type = "", std::string domain = "")
      : type(std::move(type)), domain(std::move(domain)) {}
  std::string type;
  // "" for ONNX operators; "taskmap" for the ones graph rewrites make (NhwcConv), which a
  // model may name too, in that domain.
  std::string domain;
  // The outputs as computes over ctx.param(i). May read constant inputs with ctx.value(i).
  std::function<Outputs(const OpContext&)> lower;
  // Attributes of the operator's Task (ir::Task::attrs), by which a template knows it when its
  // compute alone does not say everything (a Winograd transform's padding). Optional.
  std::function<std::map<std::string, std::string>(const OpContext&)> task_attrs;
  // For host operators only (no lower): output types, and the outputs from constant inputs.
  std::function<std::vector<OutputType>(const OpContext&)> infer;
  std::function<std::vector<NDArray>(const OpContext&)> evaluate;
  // Output 0 is input 0's data with another shape (Reshape, Flatten, Squeeze, Identity...): the
  // runtime may alias the buffers instead of copying. `lower` is still given (a copy).
  bool is_view = false;
  // ONNX opset range the definition implements; nodes outside it are reported unsupported.
  int min_opset = 1;
};

// The registry. Every definition is registered once, from the list in op_registry.cpp.
const OpDef* find_op(std::string_view type, std::string_view domain = "");
// The operators of the default (ONNX) domain, sorted.
std::vector<std::string> registered_op_types();

// The domain of taskmap's own operators.
inline constexpr const char* kTaskmapDomain = "taskmap";

// The Task computing `op`'s outputs; task.inputs()[j] stands for op input used_inputs[j].
struct LoweredOperator {
  ir::Task task;
  std::vector<int> used_inputs;
};
// A UserError for an unknown op type or a host operator (no lower).
LoweredOperator lower_operator(const OperatorNode& op, const std::string& source = "");

// Output types of `op` (from lower's computes or from infer). `op`'s inputs must have known
// shapes. Throws ValueNeeded when a needed constant is missing.
std::vector<OutputType> infer_output_types(const OperatorNode& op, const std::string& source = "");

}  // namespace taskmap::graph
