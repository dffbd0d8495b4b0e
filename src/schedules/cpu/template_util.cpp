#include "schedules/cpu/template_util.h"

namespace taskmap::schedules {

std::vector<ir::Expr> unravel(const ir::Expr& flat, const std::vector<int64_t>& extents) {
  std::vector<ir::Expr> out(extents.size());
  int64_t stride = 1;
  for (size_t d = extents.size(); d-- > 0;) {
    ir::Expr q = stride == 1 ? flat : flat / stride;
    out[d] = d == 0 ? q : q % extents[d];
    stride *= extents[d];
  }
  return out;
}

}  // namespace taskmap::schedules
