#pragma once
// Edits to a graph, collected while a rewrite pass walks it and applied at the end, so the pass
// reads the input graph unchanged throughout:
//
//   GraphEditor editor(graph);
//   editor.replace(match.ops, fused);   // fused->outputs: the tensors of `graph` it computes
//   editor.bypass(identity_op);         // readers of its output read its input instead
//   return editor.finish();
//
// The edited graph is made of fresh nodes (constants share their data), so the input graph is
// left as it is; with no edits, finish() returns the input graph itself.
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "taskmap/graph/graph.h"

namespace taskmap::graph {

class GraphEditor {
 public:
  explicit GraphEditor(const Graph& graph);

  // Whether an earlier edit removed or replaced `op`.
  bool is_edited(const OperatorNode* op) const { return edited_.count(op) > 0; }
  bool any_edited(const std::vector<const OperatorNode*>& ops) const;

  // Removes `ops` (operators of the graph, none edited before) and puts `replacement` where the
  // last of them was. Its inputs are tensors of the graph defined before that point, or new
  // constants; its outputs are tensors of the graph that `ops` computed: their readers read the
  // replacement's outputs instead.
  void replace(const std::vector<const OperatorNode*>& ops, Operator replacement);
  // The same with several operators, in order; the later ones may read the earlier ones'
  // outputs (new tensors).
  void replace(const std::vector<const OperatorNode*>& ops, std::vector<Operator> replacement);
  // Removes `op`; readers of its output 0 read its input 0. Its other outputs must be unused.
  void bypass(const OperatorNode* op);

  Graph finish() const;

 private:
  const Graph& graph_;
  std::unordered_map<const OperatorNode*, size_t> position_;
  std::unordered_set<const OperatorNode*> edited_;
  std::unordered_set<const OperatorNode*> bypassed_;
  std::map<size_t, std::vector<Operator>> replacements_;  // by the position they take
};

// `graph` with each operator for which `rewrite` returns operators replaced by them (a rewrite
// of one operator at a time, as GraphEditor::replace takes it).
Graph replace_each(const Graph& graph,
                   const std::function<std::vector<Operator>(const OperatorNode&)>& rewrite);

// A new operator standing for `root` (the last operator of a matched subgraph): given type,
// inputs and attributes, the default domain and the newest opset (so it is valid whatever opset
// the model declares), root's output 0, and a name derived from root's.
Operator fused_operator(const std::string& type, std::vector<Tensor> inputs,
                        const OperatorNode& root, std::map<std::string, AttrValue> attrs = {});

}  // namespace taskmap::graph
