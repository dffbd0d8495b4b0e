#pragma once
// One operator on concrete values: constant folding uses it, and so do operator tests.
#include <vector>

#include "taskmap/compile.h"
#include "taskmap/graph/graph.h"

namespace taskmap::graph {

// Runs `op` (its attributes, type and opset; its tensors are ignored) on `inputs`, one per op
// input (undefined arrays for omitted optional inputs). Host operators are evaluated directly;
// the others are lowered to their Task, compiled through the cache and run. Returns one array per
// wanted output.
std::vector<NDArray> run_operator(const OperatorNode& op, const std::vector<NDArray>& inputs,
                                  const CompileOptions& options = {},
                                  const std::string& source = "");

// The same node with constant inputs bound to `inputs`, and fresh output tensors.
OperatorNode bind_operator(const OperatorNode& op, const std::vector<NDArray>& inputs);

}  // namespace taskmap::graph
