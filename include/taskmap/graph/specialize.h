#pragma once
// Specialization: a graph with symbolic input shapes becomes one with every shape known.
#include <vector>

#include "taskmap/compile.h"
#include "taskmap/graph/graph.h"

namespace taskmap::graph {

// What is known of one graph input at compile time: its dtype and shape, and optionally its data
// (then the compiled graph is valid only for that data: shape inputs such as Reshape's `shape`).
struct InputBinding {
  ir::DType dtype;
  std::vector<int64_t> shape;
  NDArray value;  // undefined unless specializing on the data
};

// Bindings for these input arrays: their dtypes, shapes and data.
std::vector<InputBinding> bindings_of(const std::vector<NDArray>& inputs);

// A copy of `graph` with the inputs bound: every tensor typed (shape inference), operators whose
// inputs are all constant evaluated at compile time (constant folding), If nodes with a constant
// condition replaced by their branch, operators no output needs dropped. Input tensors of the copy
// are in the same order as `graph`'s; an input bound to a value becomes a constant.
//
// Errors: a binding whose dtype or rank differs from the declared input, or a size that differs
// from a declared fixed size, is a UserError naming the input. An operator that needs the data of
// a tensor only known at run time throws ValueNeeded (naming the tensor of `graph`).
Graph specialize(const Graph& graph, const std::vector<InputBinding>& inputs,
                 const CompileOptions& options = {});

// The graph inputs whose data determine `tensor` (walking producers back to the inputs).
std::vector<int> inputs_feeding(const Graph& graph, const TensorNode* tensor);

}  // namespace taskmap::graph
