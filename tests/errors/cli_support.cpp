#include "errors/cli_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace taskmap::testing {

CliResult run_cli(const std::string& args) {
  const std::string command = std::string("'") + TASKMAP_CLI_PATH + "' " + args + " 2>&1";
  CliResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

namespace {
std::string& temp_root() {
  static std::string root;
  return root;
}
}  // namespace

std::string temp_dir() {
  if (temp_root().empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "taskmap-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return "";
    temp_root() = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(temp_root(), ignored);
    });
  }
  static int counter = 0;
  std::string dir = temp_root() + "/" + std::to_string(counter++);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace taskmap::testing
