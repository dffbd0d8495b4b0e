// Sizes and lists in the targets' text forms. Requires: nothing. Guarantees: size_text and
// parse_count are inverses for every positive size.
#include "build/target_text.h"

#include <charconv>

namespace taskmap::build {

std::string size_text(int64_t bytes) {
  constexpr int64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "g";
  if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "m";
  if (bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "k";
  return std::to_string(bytes);
}

int64_t parse_count(std::string_view text, bool allow_suffix) {
  int64_t scale = 1;
  if (allow_suffix && !text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = int64_t{1} << 10;
        break;
      case 'm':
      case 'M':
        scale = int64_t{1} << 20;
        break;
      case 'g':
      case 'G':
        scale = int64_t{1} << 30;
        break;
      default:
        break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0 ||
      value > (int64_t{1} << 50) / scale) {
    return -1;
  }
  return value * scale;
}

std::vector<std::string_view> split_parts(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace taskmap::build
