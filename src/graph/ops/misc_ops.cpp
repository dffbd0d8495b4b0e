// Miscellaneous operators: sequence reversal and selection, determinants, Unique, detection
// (NonMaxSuppression, RoiAlign) and GridSample.
#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops {

void register_misc_ops(std::vector<OpDef>& defs) {
  misc::register_misc_select_ops(defs);
  misc::register_misc_linalg_ops(defs);
  misc::register_misc_unique_ops(defs);
  misc::register_misc_detection_ops(defs);
  misc::register_misc_grid_sample_ops(defs);
}

}  // namespace taskmap::graph::ops
