#include "taskmap/graph/run_operator.h"

#include "taskmap/graph/op_registry.h"

namespace taskmap::graph {

OperatorNode bind_operator(const OperatorNode& op, const std::vector<NDArray>& inputs) {
  OperatorNode bound;
  bound.type = op.type;
  bound.domain = op.domain;
  bound.name = op.name;
  bound.attrs = op.attrs;
  bound.opset = op.opset;
  for (size_t i = 0; i < inputs.size(); ++i) {
    bound.inputs.push_back(inputs[i].defined() ? make_constant("in" + std::to_string(i), inputs[i])
                                               : nullptr);
  }
  for (size_t k = 0; k < op.outputs.size(); ++k) {
    bound.outputs.push_back(op.outputs[k] ? make_tensor("out" + std::to_string(k), ir::f32, {})
                                          : nullptr);
  }
  if (bound.outputs.empty()) bound.outputs.push_back(make_tensor("out0", ir::f32, {}));
  return bound;
}

std::vector<NDArray> run_operator(const OperatorNode& op, const std::vector<NDArray>& inputs,
                                  const CompileOptions& options, const std::string& source) {
  OperatorNode bound = bind_operator(op, inputs);
  const OpDef* def = find_op(op.type, op.domain);
  if (def != nullptr && !def->lower) {
    return def->evaluate(OpContext(bound, source));
  }
  LoweredOperator lowered = lower_operator(bound, source);
  CompiledKernel kernel = compile_task(lowered.task, options);
  std::vector<NDArray> outputs;
  std::vector<void*> args;
  for (int i : lowered.used_inputs) args.push_back(const_cast<void*>(inputs[i].raw()));
  for (const ir::Var& out : lowered.task.output_params()) {
    outputs.emplace_back(out.dtype(), out.type().shape());
    args.push_back(outputs.back().raw());
  }
  kernel(args);
  return outputs;
}

}  // namespace taskmap::graph
