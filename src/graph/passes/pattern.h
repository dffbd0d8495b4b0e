#pragma once
// Structural patterns over the producers of one tensor, for the graph rewrites (a vocabulary of
// its own namespace: passes say `using namespace patterns;`).
//
//   // 0.5 * x * (1 + erf(x / sqrt(2))), in any association and operand order
//   Pattern x = input("x");
//   Pattern erf = op("Erf", {op("Div", {x, scalar(std::numbers::sqrt2)})});
//   Pattern gelu = product({scalar(0.5), x, commutative("Add", erf, scalar(1))});
//   if (std::optional<Match> m = Matcher(graph).match(gelu, op.outputs[0])) use(m->at("x"));
//
// Leaves match a tensor by kind: any non-constant, any constant, or a one-element constant equal
// to a value (within 1e-4 relative). Inner nodes match the operator that produces the tensor (its
// output 0, default domain): its type, its inputs one by one, and optionally a check of its
// attributes. A name binds the tensor a node matches; a later node with the same name must match
// that same tensor (x above), so a pattern can be a DAG.
//
// A match is accepted only when every tensor it passes through (every output of a matched
// operator but the root) is read by matched operators only and is not a graph output: the
// matched operators can then be replaced as one.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "taskmap/graph/graph.h"

namespace taskmap::graph::patterns {

struct Pattern {
  enum class Kind {
    input,        // any non-constant tensor
    constant,     // any constant
    scalar,       // a one-element constant equal to `value`
    op,           // an operator of `type` with exactly these `inputs`, in order
    commutative,  // a binary operator of `type` with `inputs` in either order
    product,      // a tree of Mul nodes whose leaves match `inputs` in any order (see product())
    either,       // the first of `inputs` (alternatives) that matches
  };
  Kind kind = Kind::input;
  std::string type;
  std::vector<Pattern> inputs;
  double value = 0;
  std::string name;  // binds the matched tensor when not empty
  std::function<bool(const OperatorNode&)> check;

  // The same pattern, binding its tensor to `name`.
  Pattern named(std::string name) const;
  // The same operator pattern, also requiring check(op).
  Pattern where(std::function<bool(const OperatorNode&)> check) const;
};

Pattern input(std::string name = "");
Pattern constant(std::string name = "");
Pattern scalar(double value);
Pattern op(std::string type, std::vector<Pattern> inputs);
Pattern commutative(std::string type, Pattern a, Pattern b);
// Mul(Mul(a, b), c), Mul(c, Mul(b, a)), ...: the leaves are found by descending through Mul
// operators whose output has one reader, so nested products are always flattened: write the
// factors of a product pattern flat.
Pattern product(std::vector<Pattern> factors);
Pattern either(std::vector<Pattern> alternatives);

// What a pattern matched.
struct Match {
  std::map<std::string, Tensor> tensors;  // by binding name
  std::vector<const OperatorNode*> ops;   // every matched operator once, the root's included

  bool has(const std::string& name) const { return tensors.count(name) > 0; }
  const Tensor& at(const std::string& name) const;  // a bound tensor (asserts it is bound)
};

// Who reads each tensor of a graph.
class Uses {
 public:
  explicit Uses(const Graph& graph);

  // One entry per input slot that reads `t` (an operator reading it twice appears twice).
  const std::vector<const OperatorNode*>& readers(const TensorNode* t) const;
  int count(const TensorNode* t) const { return static_cast<int>(readers(t).size()); }
  bool is_graph_output(const TensorNode* t) const { return outputs_.count(t) > 0; }
  // Read by nothing and not a graph output (true for nullptr).
  bool unused(const TensorNode* t) const;

 private:
  std::unordered_map<const TensorNode*, std::vector<const OperatorNode*>> readers_;
  std::unordered_set<const TensorNode*> outputs_;
};

class Matcher {
 public:
  explicit Matcher(const Graph& graph) : uses_(graph) {}

  const Uses& uses() const { return uses_; }
  // `pattern` matched at `root`, or nothing. Choices inside a sub-pattern that matched are not
  // revisited when a later sibling fails (only product and commutative orders are searched).
  std::optional<Match> match(const Pattern& pattern, const Tensor& root) const;

 private:
  bool match_at(const Pattern& p, const Tensor& t, Match& m) const;
  bool match_node(const Pattern& p, const Tensor& t, Match& m) const;
  bool match_inputs(const std::vector<Pattern>& ps, const std::vector<Tensor>& ts, Match& m) const;
  bool match_any_order(const std::vector<Pattern>& ps, size_t first, const std::vector<Tensor>& ts,
                       std::vector<bool>& taken, Match& m) const;
  void collect_factors(const Tensor& t, bool is_root, std::vector<Tensor>& factors, Match& m) const;

  Uses uses_;
};

// The operator producing `t` (as output 0), when it has this type in the default domain.
const OperatorNode* producer_of_type(const Tensor& t, const std::string& type);

// Attribute `name` of `op`: `fallback` when absent, nothing when it is of another kind.
template <typename T>
std::optional<T> attr_or(const OperatorNode& op, const std::string& name, T fallback) {
  auto it = op.attrs.find(name);
  if (it == op.attrs.end()) return fallback;
  const T* value = std::get_if<T>(&it->second);
  return value ? std::optional<T>(*value) : std::nullopt;
}

// The attributes of a 2-D convolution with explicit padding (auto_pad absent or NOTSET), their
// ONNX defaults filled in: nothing when one has the wrong kind or length.
struct Conv2dAttrs {
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // pads: top, left, bottom, right
};
std::optional<Conv2dAttrs> conv2d_attrs(const OperatorNode& op);

}  // namespace taskmap::graph::patterns
