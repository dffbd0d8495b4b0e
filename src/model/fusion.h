#pragma once
// Post-scheduling fusion (DESIGN.md "Fusion partition" and "Post-scheduling fusion";
// hidet-design.md §5).
//
// partition_fusion() groups the operators of a specialized graph. Every operator not yet taken
// heads a group (an anchor such as a matmul or a reduction, or an injective operator that
// nothing absorbed). A head absorbs
//   - an epilogue chain: the single consumer of its output, when that consumer is injective,
//     reads the head's output only at its own output index (elementwise; other inputs may
//     broadcast), and has the same shape; then that consumer's single consumer, and so on;
//   - prologues: an injective operator whose output only the head reads, that heads a group of
//     its own with nothing absorbed.
// Intermediate tensors of a group are never stored.
//
// fuse_kernel() then rewrites the head's *scheduled* kernel: each load of a prologue tensor
// becomes the producer's compute expression at that index, each store of the head's output
// becomes a store of the group's output with the epilogue applied, and the parameters change
// accordingly. A kernel that touches a fused tensor any other way (takes its address, reads its
// own output back) is left alone and the group falls back to one kernel per operator.
#include <optional>
#include <string>
#include <vector>

#include "taskmap/graph/graph.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::model {

struct FusionGroup {
  int head = -1;               // index into the operator list
  std::vector<int> prologues;  // operators inlined into the head's reads
  std::vector<int> epilogues;  // the chain applied to the head's output, in order
  int last() const;            // the member that runs last in graph order (where the group runs)
};

// `lowered[i]` is operator i's task, or nothing for operators that get no kernel (views that
// alias their input); those are never fused. Returns the groups ordered by last().
std::vector<FusionGroup> partition_fusion(
    const graph::Graph& graph, const std::vector<std::optional<graph::LoweredOperator>>& lowered);

// A kernel parameter and the graph tensor bound to it.
struct KernelArg {
  ir::Var param;
  const graph::TensorNode* tensor;
};

struct FusedKernels {
  std::vector<ir::Function> functions;  // in launch order, sharing their parameters
  std::vector<KernelArg> args;          // in parameter order
};

// `head_kernels` implement the head's task (one kernel, or a CUDA module's kernels in launch
// order, all with the same parameters); `head_args` binds their parameters (the task's inputs
// and outputs, then any extra parameters such as packed weights or a workspace). Each kernel is
// rewritten: prologue reads inlined wherever they are, the stores to the head's output (in
// whichever kernel makes them) carried through the epilogues. Returns nothing when a kernel
// cannot be rewritten (the caller then runs the members separately).
std::optional<FusedKernels> fuse_kernels(
    const FusionGroup& group, const std::vector<const graph::OperatorNode*>& ops,
    const std::vector<std::optional<graph::LoweredOperator>>& lowered,
    const std::vector<ir::Function>& head_kernels, const std::vector<KernelArg>& head_args);

}  // namespace taskmap::model
