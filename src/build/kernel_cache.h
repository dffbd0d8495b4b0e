#pragma once
// The on-disk kernel cache: folder resolution and atomic file writes. Files are named by content
// key (`<key>.cpp`, `<key>.so`); a file appears under its final name only once complete (written
// under a temporary name in the same folder, then renamed), so concurrent processes that build
// the same kernel never see half-written files.
#include <filesystem>
#include <string_view>

namespace taskmap::build {

// The kernels folder, created if missing. Re-reads the environment on every call (tests point
// TASKMAP_CACHE_DIR at a fresh folder). A folder that cannot be created or written is a UserError
// naming the path and suggesting TASKMAP_CACHE_DIR.
std::filesystem::path ensure_kernel_dir();

// Atomic writes (temporary name, then rename) are taskmap::write_file_atomically and
// taskmap::temporary_path_for (runtime/file_io.h).

}  // namespace taskmap::build
