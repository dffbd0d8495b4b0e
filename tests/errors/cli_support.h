#pragma once
// Running the taskmap CLI from tests: its exit status and its output.
#include <string>

namespace taskmap::testing {

struct CliResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs the CLI with `args` (already shell-quoted).
CliResult run_cli(const std::string& args);

// A fresh empty folder under the system temporary folder, removed at process exit.
std::string temp_dir();

}  // namespace taskmap::testing
