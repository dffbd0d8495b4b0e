#include "taskmap/runtime/file_io.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "taskmap/error.h"

namespace taskmap {

namespace fs = std::filesystem;

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code error;
  TM_USER_CHECK(fs::exists(path, error))
      << "cannot read " << what << " '" << path << "': no such file";
  TM_USER_CHECK(!fs::is_directory(path, error))
      << "cannot read " << what << " '" << path << "': it is a directory";
  std::ifstream in(path, std::ios::binary);
  TM_USER_CHECK(in.good()) << "cannot read " << what << " '" << path
                           << "': " << std::strerror(errno);
  std::ostringstream contents;
  contents << in.rdbuf();
  TM_USER_CHECK(!in.bad()) << "cannot read " << what << " '" << path << "': read error";
  return contents.str();
}

std::string temporary_path_for(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static std::atomic<uint64_t> counter{0};
  uint64_t tag = rng() ^ counter.fetch_add(1);
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%ld.%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(tag));
  return path + suffix;
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  fs::path target(path);
  fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code error;
  TM_USER_CHECK(fs::is_directory(folder, error))
      << "cannot write '" << path << "': folder '" << folder.string() << "' does not exist";
  fs::path temporary = temporary_path_for(path);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    TM_USER_CHECK(out.good()) << "cannot write '" << path << "': " << std::strerror(errno);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) {
      fs::remove(temporary, error);
      TM_USER_ERROR() << "cannot write '" << path << "': write failed (disk full?)";
    }
  }
  fs::rename(temporary, target, error);
  if (error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    TM_USER_ERROR() << "cannot write '" << path << "': " << error.message();
  }
}

}  // namespace taskmap
