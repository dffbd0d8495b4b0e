#pragma once
// Joins a list of printable values with a separator: join({4, 8}) == "4, 8". Used by the text
// forms of mappings and layouts and by their error messages.
#include <sstream>
#include <string>
#include <vector>

namespace taskmap::ir {

template <typename T>
std::string join(const std::vector<T>& values, const char* separator = ", ") {
  std::ostringstream os;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) os << separator;
    os << values[i];
  }
  return os.str();
}

}  // namespace taskmap::ir
