// run_process: posix_spawn with stdout+stderr sent into a close-on-exec pipe, read to the end.
// Requires: POSIX. Guarantees: no zombie is left behind; EINTR is retried.
#include "build/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "taskmap/error.h"

extern char** environ;

namespace taskmap::build {
namespace fs = std::filesystem;

std::string ProcessResult::describe() const {
  if (signaled) return "was killed by signal " + std::to_string(signal);
  return "exited with status " + std::to_string(exit_status);
}

std::string resolve_program(const std::string& program) {
  std::error_code error;
  if (program.find('/') != std::string::npos) {
    fs::path resolved = fs::canonical(program, error);
    return error ? "" : resolved.string();
  }
  const char* path_env = std::getenv("PATH");
  std::stringstream dirs(path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate, error)) {
      fs::path resolved = fs::canonical(candidate, error);
      if (!error) return resolved.string();
    }
  }
  return "";
}

ProcessResult run_process(const std::vector<std::string>& argv) {
  TM_ASSERT(!argv.empty()) << "run_process needs a program";
  std::string program = resolve_program(argv[0]);
  TM_USER_CHECK(!program.empty()) << "cannot find the program '" << argv[0] << "'";

  int pipe_fds[2];
  TM_USER_CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0)
      << "cannot create a pipe: " << std::strerror(errno);

  // dup2 in the child clears close-on-exec on fds 1 and 2 only.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, program.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    TM_USER_ERROR() << "cannot start '" << program << "': " << std::strerror(spawn_error);
  }

  ProcessResult result;
  char buffer[4096];
  while (true) {
    ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    if (n > 0) {
      result.output.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_fds[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    TM_USER_CHECK(errno == EINTR) << "waiting for '" << program
                                  << "' failed: " << std::strerror(errno);
  }
  if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.signal = WTERMSIG(status);
  } else {
    result.exit_status = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace taskmap::build
