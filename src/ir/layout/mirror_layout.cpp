// The register layout that mirrors a task mapping (hidet-design.md §2.7): local() for each
// spatial factor, a strided layout in the factor's own task order for each repeat factor
// (row_major for row-ordered repeats, column_major for column-ordered ones), composed in chain
// order. Because composition splits an index as (idx / T_inner, idx % T_inner) exactly as the
// mapping combines tasks, each worker's k-th task lands at offset k, and size == tasks_per_worker.
#include "ir/mapping/mapping_node.h"
#include "taskmap/error.h"
#include "taskmap/ir/layout.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {

Layout Layout::mirror(const TaskMapping& mapping) {
  TM_USER_CHECK(mapping.defined()) << "cannot mirror an undefined task mapping";
  Layout result;
  for (const MappingFactor& factor : mapping.node()->factors) {
    // The k-th task of a repeat is the rank-order unravel of k, so the rank strides place it at
    // offset k: row_major strides for default ranks, column_major ones for reversed ranks.
    Layout layout = factor.kind == FactorKind::spatial ? local(factor.shape)
                                                       : strided(factor.shape, factor.strides());
    result = result.defined() ? result * layout : layout;
  }
  return result;
}

}  // namespace taskmap::ir
