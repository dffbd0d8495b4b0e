#include "taskmap/ir/node_kinds.h"

namespace taskmap::ir {

const char* node_kind_name(NodeKind kind) {
  switch (kind) {
#define TASKMAP_CASE(name) \
  case NodeKind::name:     \
    return #name;
    TASKMAP_EXPR_NODES(TASKMAP_CASE)
    TASKMAP_STMT_NODES(TASKMAP_CASE)
#undef TASKMAP_CASE
  }
  return "?";
}

}  // namespace taskmap::ir
