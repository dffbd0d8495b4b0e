// The kernel cache folder: where it is, creating it, clearing and usage.
// Requires: a POSIX file system (rename within a folder is atomic).
// Guarantees: a file under its final name is always complete; errors name the path.
#include "build/kernel_cache.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <system_error>

#include "taskmap/build/compiler.h"
#include "taskmap/error.h"

namespace taskmap::build {
namespace fs = std::filesystem;
namespace {

const char* env_or_null(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0' ? value : nullptr;
}

constexpr const char* kCacheHint =
    "; set TASKMAP_CACHE_DIR to a writable directory to use another kernel cache";

}  // namespace

fs::path cache_root_dir() {
  if (const char* dir = env_or_null("TASKMAP_CACHE_DIR")) return dir;
  if (const char* dir = env_or_null("XDG_CACHE_HOME")) return fs::path(dir) / "taskmap";
  if (const char* home = env_or_null("HOME")) return fs::path(home) / ".cache" / "taskmap";
  // No home at all (a bare service account): a per-user folder under the temp directory.
  return fs::temp_directory_path() / ("taskmap-cache-" + std::to_string(getuid()));
}

fs::path kernel_cache_dir() {
  return cache_root_dir() / "kernels";
}

fs::path ensure_kernel_dir() {
  fs::path dir = kernel_cache_dir();
  std::error_code error;
  fs::create_directories(dir, error);
  TM_USER_CHECK(!error) << "cannot create the kernel cache directory '" << dir.string()
                        << "': " << error.message() << kCacheHint;
  TM_USER_CHECK(access(dir.c_str(), W_OK | X_OK) == 0)
      << "the kernel cache directory '" << dir.string() << "' is not writable" << kCacheHint;
  return dir;
}

void clear_kernel_cache() {
  fs::path dir = kernel_cache_dir();
  std::error_code error;
  fs::remove_all(dir, error);
  TM_USER_CHECK(!error) << "cannot clear the kernel cache '" << dir.string()
                        << "': " << error.message();
}

CacheUsage kernel_cache_usage() {
  CacheUsage usage;
  std::error_code error;
  fs::path dir = kernel_cache_dir();
  if (!fs::is_directory(dir, error)) return usage;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    std::error_code size_error;
    if (!entry.is_regular_file(size_error)) continue;
    uintmax_t size = entry.file_size(size_error);
    if (size_error) continue;  // removed by a concurrent clear; not an error
    usage.files += 1;
    usage.bytes += static_cast<int64_t>(size);
  }
  return usage;
}

}  // namespace taskmap::build
