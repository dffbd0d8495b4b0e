#pragma once
// The rule-based CPU auto-scheduler: turns any Task into a correct kernel (hidet-design.md §4.5).
//
// Computes without reductions are inlined into their users. Every output, and every compute
// that holds a reduction, is materialized (outputs into their parameters, the rest into heap
// temporaries) by one loop nest in dependency order:
//   for w in range(∏ shape[:-1]) parallel:                 // cores take rows of the output
//     for (i.., j) in spatial(shape[:-1], 1) * repeat(1.., shape[-1]) on w:   // j vectorized
//       out[i.., j] = value                                // reductions in local accumulators
// The innermost output dimension is contiguous and its loop is marked `vectorize`.
#include <unordered_map>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::schedules {

ir::Function auto_schedule_cpu(const ir::Task& task);

// Lowers the Reduce nodes of `value` into accumulator loops appended to `stmts`; returns the
// expression that reads the result. Shared with templates that reduce inside their own loops.
ir::Expr lower_reductions(const ir::Expr& value, std::vector<ir::Stmt>& stmts);

// `value` with its loads of computes replaced: a compute in `buffers` (keyed by its node) is read
// from that buffer, any other is inlined (its definition substituted at the load's indices).
ir::Expr inline_computes(const ir::Expr& value,
                         const std::unordered_map<const void*, ir::Var>& buffers);

// Appends to `kb` the statements that write element `index` of `compute` (whose definition,
// its computes inlined, is `value`) to `out`: its reductions' loops, then the store.
void emit_element(lang::KernelBuilder& kb, const ir::ComputeNode& compute, const ir::Expr& value,
                  const ir::Var& out, const std::vector<ir::Expr>& index);

// A valid C identifier made from a task or op name ("conv2d.3" -> "conv2d_3").
std::string kernel_name(const std::string& name);

}  // namespace taskmap::schedules
