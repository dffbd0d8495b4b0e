// remove_noops: operators that only copy their input go away; their readers read the input.
// Requires: a specialized graph (output types known). Guarantees: the same outputs, under the
// same names (an operator writing a graph output stays).
#include <map>
#include <string>

#include "graph/passes/graph_editor.h"
#include "graph/passes/pattern.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {

using namespace patterns;

namespace {

using NoopCheck = bool (*)(const OperatorNode&);

bool always(const OperatorNode&) {
  return true;
}

// Output 0 has input 0's dtype and shape (Reshape to the same shape, Cast to the same dtype...).
bool keeps_type(const OperatorNode& op) {
  const TensorNode& in = *op.inputs[0];
  const TensorNode& out = *op.outputs[0];
  return in.dtype == out.dtype && is_known(in.shape) && in.shape == out.shape;
}

bool has_identity_permutation(const OperatorNode& op) {
  if (!op.attrs.count("perm")) return op.inputs[0]->shape.size() <= 1;  // default: reversed
  std::optional<std::vector<int64_t>> perm = attr_or<std::vector<int64_t>>(op, "perm", {});
  if (!perm) return false;
  for (size_t i = 0; i < perm->size(); ++i)
    if ((*perm)[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Training mode drops values (and is rejected at lowering unless the ratio is 0).
bool is_inference_dropout(const OperatorNode& op) {
  auto value = [&](size_t i, double fallback) {
    if (op.inputs.size() <= i || !op.inputs[i]) return fallback;
    const Tensor& t = op.inputs[i];
    return t->is_constant() && t->constant.numel() == 1 ? t->constant.get_double(0) : -1.0;
  };
  double training = value(2, 0);
  return training == 0 || (training == 1 && value(1, 0.5) == 0);
}

const std::map<std::string, NoopCheck>& noop_rules() {
  static const std::map<std::string, NoopCheck> rules = {
      {"Identity", always},
      {"Dropout", is_inference_dropout},
      {"Transpose", has_identity_permutation},
      {"Reshape", keeps_type},
      {"Flatten", keeps_type},
      {"Squeeze", keeps_type},
      {"Unsqueeze", keeps_type},
      {"Expand", keeps_type},
      {"Cast", keeps_type},
      {"CastLike", keeps_type},
  };
  return rules;
}

bool is_noop(const OperatorNode& op, const Uses& uses) {
  auto rule = noop_rules().find(op.type);
  if (rule == noop_rules().end() || !op.domain.empty()) return false;
  if (op.inputs.empty() || !op.inputs[0] || op.outputs.empty() || !op.outputs[0]) return false;
  if (uses.is_graph_output(op.outputs[0].get())) return false;
  for (size_t k = 1; k < op.outputs.size(); ++k)
    if (!uses.unused(op.outputs[k].get())) return false;  // Dropout's mask
  return rule->second(op);
}

}  // namespace

Graph remove_noops(const Graph& graph) {
  Uses uses(graph);
  GraphEditor editor(graph);
  for (const Operator& op : graph.ops)
    if (is_noop(*op, uses)) editor.bypass(op.get());
  return editor.finish();
}

}  // namespace taskmap::graph
