#pragma once
// Helpers of the miscellaneous operator family, and its sub-registrations.
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops::misc {

// ReverseSequence, Compress.
void register_misc_select_ops(std::vector<OpDef>& defs);
// Det.
void register_misc_linalg_ops(std::vector<OpDef>& defs);
// Unique.
void register_misc_unique_ops(std::vector<OpDef>& defs);
// NonMaxSuppression, RoiAlign.
void register_misc_detection_ops(std::vector<OpDef>& defs);
// GridSample.
void register_misc_grid_sample_ops(std::vector<OpDef>& defs);

}  // namespace taskmap::graph::ops::misc
