#pragma once
// Whole-file reads and atomic writes with user-facing errors.
#include <string>
#include <string_view>

namespace taskmap {

// The file's bytes; a missing or unreadable file is a UserError naming it and `what` ("model").
std::string read_file(const std::string& path, const std::string& what);

// A name beside `path` for building it: "<path>.tmp.<pid>.<random>" (the pid separates processes,
// the random part threads and repeated attempts). Renaming it over `path` publishes the file.
std::string temporary_path_for(const std::string& path);

// Writes `contents` under a temporary name in the same folder, then renames it over `path`, so
// readers never see a half-written file. An unwritable folder is a UserError naming the path.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace taskmap
