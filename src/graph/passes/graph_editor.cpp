#include "graph/passes/graph_editor.h"

#include <algorithm>

#include "taskmap/error.h"

namespace taskmap::graph {

GraphEditor::GraphEditor(const Graph& graph) : graph_(graph) {
  for (size_t i = 0; i < graph.ops.size(); ++i) position_[graph.ops[i].get()] = i;
}

bool GraphEditor::any_edited(const std::vector<const OperatorNode*>& ops) const {
  for (const OperatorNode* op : ops)
    if (is_edited(op)) return true;
  return false;
}

void GraphEditor::replace(const std::vector<const OperatorNode*>& ops, Operator replacement) {
  replace(ops, std::vector<Operator>{std::move(replacement)});
}

void GraphEditor::replace(const std::vector<const OperatorNode*>& ops,
                          std::vector<Operator> replacement) {
  TM_ASSERT(!ops.empty() && !replacement.empty()) << "nothing to replace";
  for (const Operator& op : replacement) TM_ASSERT(op != nullptr) << "a null replacement";
  size_t last = 0;
  for (const OperatorNode* op : ops) {
    auto it = position_.find(op);
    TM_ASSERT(it != position_.end()) << op->label() << " is not in the graph";
    TM_ASSERT(edited_.insert(op).second) << op->label() << " is edited twice";
    last = std::max(last, it->second);
  }
  replacements_[last] = std::move(replacement);
}

void GraphEditor::bypass(const OperatorNode* op) {
  TM_ASSERT(position_.count(op)) << op->label() << " is not in the graph";
  TM_ASSERT(!op->inputs.empty() && op->inputs[0] && !op->outputs.empty() && op->outputs[0])
      << op->label() << " has no input or output 0 to connect";
  TM_ASSERT(edited_.insert(op).second) << op->label() << " is edited twice";
  bypassed_.insert(op);
}

Graph GraphEditor::finish() const {
  if (edited_.empty()) return graph_;
  Graph out;
  out.name = graph_.name;
  out.source = graph_.source;
  std::unordered_map<const TensorNode*, Tensor> mapping;
  auto fresh = [&](const Tensor& t) {
    auto copy = std::make_shared<TensorNode>(*t);
    copy->producer = nullptr;
    copy->producer_output = 0;
    mapping[t.get()] = copy;
    return copy;
  };
  auto map = [&](const Tensor& t) -> Tensor {
    if (!t) return nullptr;
    auto it = mapping.find(t.get());
    if (it != mapping.end()) return it->second;
    TM_ASSERT(t->is_constant()) << "tensor '" << t->name << "' is read before it is defined";
    return fresh(t);
  };
  auto copy = [&](const OperatorNode& op) {
    auto node = std::make_shared<OperatorNode>(op);
    for (Tensor& t : node->inputs) t = map(t);
    for (Tensor& t : node->outputs)
      if (t) t = fresh(t);
    out.add(node);
  };
  for (const Tensor& t : graph_.inputs) out.inputs.push_back(fresh(t));
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    const OperatorNode* op = graph_.ops[i].get();
    if (bypassed_.count(op)) mapping[op->outputs[0].get()] = map(op->inputs[0]);
    if (!edited_.count(op)) copy(*op);
    auto replacement = replacements_.find(i);
    if (replacement != replacements_.end())
      for (const Operator& r : replacement->second) copy(*r);
  }
  for (const Tensor& t : graph_.outputs) out.outputs.push_back(map(t));
  return out;
}

Graph replace_each(const Graph& graph,
                   const std::function<std::vector<Operator>(const OperatorNode&)>& rewrite) {
  GraphEditor editor(graph);
  for (const Operator& op : graph.ops) {
    std::vector<Operator> replacement = rewrite(*op);
    if (!replacement.empty()) editor.replace({op.get()}, std::move(replacement));
  }
  return editor.finish();
}

Operator fused_operator(const std::string& type, std::vector<Tensor> inputs,
                        const OperatorNode& root, std::map<std::string, AttrValue> attrs) {
  auto op = std::make_shared<OperatorNode>();
  op->type = type;
  op->name = root.name.empty() ? "" : root.name + "/" + type;
  op->attrs = std::move(attrs);
  op->inputs = std::move(inputs);
  op->outputs = {root.outputs.at(0)};
  op->opset = 0;
  return op;
}

}  // namespace taskmap::graph
