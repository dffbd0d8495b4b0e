// Text form of loop hints, shared by the printer, mapping strings and diagnostics.
#include "taskmap/ir/loop_hint.h"

namespace taskmap::ir {

std::string LoopHint::str() const {
  switch (kind) {
    case LoopKind::serial:
      return "";
    case LoopKind::unroll:
      return "unroll";
    case LoopKind::parallel:
      return factor > 0 ? "parallel(" + std::to_string(factor) + ")" : "parallel";
    case LoopKind::vectorize:
      return "vectorize";
  }
  return "";
}

}  // namespace taskmap::ir
