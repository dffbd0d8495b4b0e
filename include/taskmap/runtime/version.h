#pragma once
// The version of the taskmap runtime library.

namespace taskmap::runtime {

const char* version();

}  // namespace taskmap::runtime
