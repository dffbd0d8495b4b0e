#pragma once
// Running an external program (the C++ compiler) and collecting what it prints.
#include <string>
#include <vector>

namespace taskmap::build {

struct ProcessResult {
  int exit_status = 0;  // meaningful when !signaled
  bool signaled = false;
  int signal = 0;      // meaningful when signaled
  std::string output;  // stdout and stderr, interleaved as written

  bool ok() const { return !signaled && exit_status == 0; }
  // "exited with status 1", "was killed by signal 9".
  std::string describe() const;
};

// Runs argv[0] (a path, or a name looked up in PATH) with the given arguments and the current
// environment, and waits for it. A program that cannot be started is a UserError naming it.
// Safe to call from several threads at once: the pipe that collects the output is close-on-exec,
// so no other child inherits it.
ProcessResult run_process(const std::vector<std::string>& argv);

// The absolute, symlink-free path of `program` (a path, or a name looked up in PATH); "" when not
// found.
std::string resolve_program(const std::string& program);

}  // namespace taskmap::build
