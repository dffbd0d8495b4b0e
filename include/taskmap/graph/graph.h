#pragma once
// The graph IR (DESIGN.md, "The road a model travels"): Tensors produced and consumed by
// Operators, in a Graph with inputs and outputs. Operator types and attributes follow ONNX (the
// frontend maps nodes one to one; the graph builder makes the same operators), so a graph can be
// written back as ONNX.
//
// Shapes: a Tensor's shape is a list of Dims, each a known size or a named symbol ("batch").
// Graph inputs may carry symbols; the compiler specializes a graph for concrete input shapes
// (graph/specialize.h), after which every shape is known.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "taskmap/ir/dtype.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::graph {

// One dimension: a known size (>= 0), a named symbol, or unknown (no name, no size).
class Dim {
 public:
  Dim() = default;                    // unknown
  Dim(int64_t size) : size_(size) {}  // NOLINT(google-explicit-constructor): shapes read as {1, 3}
  static Dim symbol(std::string name);

  bool is_known() const { return size_ >= 0; }
  bool is_symbol() const { return !name_.empty(); }
  int64_t size() const;  // requires is_known()
  const std::string& name() const { return name_; }
  std::string str() const;  // "3", "batch", "?"
  bool operator==(const Dim&) const = default;

 private:
  int64_t size_ = -1;
  std::string name_;
};

using Shape = std::vector<Dim>;
std::string shape_str(const Shape& shape);
using taskmap::shape_str;  // the concrete form, std::vector<int64_t>, stays visible here
bool is_known(const Shape& shape);
std::vector<int64_t> known_sizes(const Shape& shape);  // requires is_known(shape)
Shape to_shape(const std::vector<int64_t>& sizes);

class OperatorNode;
class Graph;

// A value flowing through the graph. `constant` holds its data when it is known at compile time
// (an initializer, a Constant node, or the result of constant folding).
struct TensorNode {
  std::string name;
  ir::DType dtype = ir::f32;
  Shape shape;
  NDArray constant;                  // defined() for constants
  OperatorNode* producer = nullptr;  // nullptr for graph inputs and constants
  int producer_output = 0;
  // False until shape inference has set dtype and shape (operator outputs of an imported graph).
  bool type_known = true;

  bool is_constant() const { return constant.defined(); }
  // "f32[1, 3, batch]".
  std::string type_str() const;
};
using Tensor = std::shared_ptr<TensorNode>;

Tensor make_tensor(std::string name, ir::DType dtype, Shape shape);
Tensor make_constant(std::string name, NDArray value);

// Attribute values, as ONNX has them.
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>,
                 std::vector<std::string>, NDArray, std::shared_ptr<Graph>>;

// "int", "float", "string", "ints", "floats", "strings", "tensor", "graph".
std::string attr_kind_name(const AttrValue& value);

class OperatorNode {
 public:
  std::string type;    // ONNX op type: "Conv", "MatMul", ...
  std::string domain;  // "" for the default ONNX domain
  std::string name;    // the node name (may be empty)
  std::map<std::string, AttrValue> attrs;
  std::vector<Tensor> inputs;   // nullptr where an optional input is omitted
  std::vector<Tensor> outputs;  // nullptr where an optional output is not wanted
  int opset = 0;                // opset version of `domain` in the model (0: newest)

  // "Conv 'conv1'" or "Conv (node 12)" for messages.
  std::string label() const;
};
using Operator = std::shared_ptr<OperatorNode>;

class Graph {
 public:
  std::string name;
  std::string source;  // the file it was read from, for messages ("" when built in code)
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  std::vector<Operator> ops;  // topological order

  // Adds an operator, setting its outputs' producer links; returns it.
  Operator add(Operator op);
  // Every tensor reachable: inputs, constants, op outputs (each once, in a stable order).
  std::vector<Tensor> tensors() const;
  // Checks the graph: ops in topological order, every input defined before use, each output
  // produced once. A violation is a UserError naming the op and tensor.
  void validate() const;
};

// A readable dump: one line per input, constant (type only) and operator.
//   graph main(x: f32[1, 3, 224, 224]) -> (y: f32[1, 1000])
//     %conv1 = Conv(x, w1: const f32[64, 3, 7, 7]) {pads=[3, 3, 3, 3], strides=[2, 2]}
std::string to_string(const Graph& graph);

}  // namespace taskmap::graph
