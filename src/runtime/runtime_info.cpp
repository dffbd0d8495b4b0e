// Identifies the runtime library; lets a caller check which taskmap runtime it loaded.
#include "taskmap/runtime/version.h"

namespace taskmap::runtime {

const char* version() {
  return "0.1.0";
}

}  // namespace taskmap::runtime
