// Sizes and lists in the targets' text forms, and cache sizes from sysfs. Requires: nothing.
// Guarantees: size_text and parse_count are inverses for every positive size.
#include "build/target_text.h"

#include <cctype>
#include <charconv>
#include <fstream>

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

namespace {

// The first line of a small sysfs file, without its newline ("" when it cannot be read).
std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int64_t sysfs_cache_bytes(const std::string& cache_dir, int level) {
  // The index folders are numbered from 0 without gaps; a machine has a handful of them.
  for (int index = 0; index < 16; ++index) {
    const std::string dir = cache_dir + "/index" + std::to_string(index) + "/";
    const std::string level_text = first_line(dir + "level");
    if (level_text.empty()) break;
    const std::string type = first_line(dir + "type");
    if (level_text != std::to_string(level) || (type != "Data" && type != "Unified")) continue;
    // "1024K": digits and a k / m / g suffix in either case, as parse_count reads them.
    std::string size = first_line(dir + "size");
    for (char& c : size) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const int64_t bytes = parse_count(size, true);
    return bytes > 0 ? bytes : 0;
  }
  return 0;
}

}  // namespace taskmap::build
