// The build driver: cache lookup, parallel compilation of the misses, loading the results.
// Requires: a C++17 compiler with OpenMP ($TASKMAP_CXX, default g++) for cache misses.
// Guarantees: a .so under its final cache name is complete (built under a temporary name, then
// renamed); a failed compile leaves its .cpp on disk and throws BuildError after every compiler
// started has finished.
#include "taskmap/build/compiler.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

#include "build/build_jobs.h"
#include "build/content_hash.h"
#include "build/kernel_cache.h"
#include "build/subprocess.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::build {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxDiagnosticLines = 60;

struct CompilerInfo {
  std::string command;            // as the user wrote it: "g++", "ccache g++"
  std::vector<std::string> argv;  // the command split into words
  std::string identity;           // resolved path + first line of --version
};

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The compiler named by the environment. Its identity is read once per command per process:
// running `--version` for every build would cost more than a cache hit.
const CompilerInfo& compiler_info() {
  static std::mutex mutex;
  static std::map<std::string, CompilerInfo> known;
  const char* env = std::getenv("TASKMAP_CXX");
  std::string command = env != nullptr && env[0] != '\0' ? env : "g++";

  std::lock_guard<std::mutex> lock(mutex);
  auto it = known.find(command);
  if (it != known.end()) return it->second;

  CompilerInfo info;
  info.command = command;
  info.argv = split_words(command);
  TM_USER_CHECK(!info.argv.empty()) << "TASKMAP_CXX is blank";
  std::string resolved = resolve_program(info.argv[0]);
  TM_USER_CHECK(!resolved.empty()) << "cannot find the C++ compiler '" << info.argv[0]
                                   << "'; install g++ or set TASKMAP_CXX to a C++ compiler";
  std::vector<std::string> version_argv = info.argv;
  version_argv.push_back("--version");
  ProcessResult version = run_process(version_argv);
  TM_USER_CHECK(version.ok()) << "the C++ compiler '" << command << " --version' "
                              << version.describe() << ":\n"
                              << version.output;
  info.identity = resolved + "\n" + version.output.substr(0, version.output.find('\n'));
  for (size_t i = 1; i < info.argv.size(); ++i) info.identity += "\n" + info.argv[i];
  return known.emplace(command, std::move(info)).first->second;
}

std::vector<std::string> compile_flags(const BuildOptions& options) {
  std::vector<std::string> flags = {"-std=c++17", "-O3", "-fPIC", "-shared", "-fopenmp"};
  for (const std::string& flag : options.target.isa_flags()) flags.push_back(flag);
  // errno is never read by generated code; without this, sqrtf/expf cannot be inlined or
  // vectorized. NaN and Inf semantics are unaffected (unlike -ffast-math).
  flags.push_back("-fno-math-errno");
  // Vector types wider than the ISA change the calling convention of static helpers only;
  // GCC's note about it is noise here.
  flags.push_back("-Wno-psabi");
  for (const std::string& flag : options.extra_flags) flags.push_back(flag);
  return flags;
}

// Compiles one kernel under cache key `key` and loads it.
std::shared_ptr<runtime::Library> compile_one(const CompileJob& job, const CompilerInfo& compiler,
                                              const std::vector<std::string>& flags,
                                              const fs::path& dir, const std::string& key) {
  auto start = std::chrono::steady_clock::now();
  fs::path source = dir / (key + ".cpp");
  fs::path object = dir / (key + ".so");
  std::error_code error;
  if (!fs::exists(source, error)) write_file_atomically(source.string(), job.source);

  fs::path temporary = temporary_path_for(object.string());
  std::vector<std::string> argv = compiler.argv;
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-o", temporary.string(), source.string()});
  ProcessResult result = run_process(argv);
  if (!result.ok()) {
    fs::remove(temporary, error);
    throw BuildError("failed to build kernel '" + job.name + "': " + compiler.command + " " +
                     result.describe() + "\n  source: " + source.string() + "\n" +
                     trim_lines(result.output, kMaxDiagnosticLines));
  }
  fs::rename(temporary, object, error);
  if (error) {
    fs::remove(temporary, error);
    TM_USER_ERROR() << "cannot move the compiled kernel '" << job.name << "' into the cache at '"
                    << object.string() << "': " << error.message();
  }
  std::shared_ptr<runtime::Library> library = runtime::Library::open(object.string());
  if (build_log_enabled()) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "[taskmap] build %s: compiled in %.2f s (%s)\n", job.name.c_str(), seconds,
                 key.c_str());
  }
  return library;
}

// A cached .so, or nullptr when there is none or it cannot be loaded (then it is rebuilt).
std::shared_ptr<runtime::Library> load_cached(const fs::path& object) {
  std::error_code error;
  if (!fs::exists(object, error)) return nullptr;
  try {
    return runtime::Library::open(object.string());
  } catch (const UserError&) {
    fs::remove(object, error);
    return nullptr;
  }
}

}  // namespace

BuildStats& build_stats() {
  static BuildStats stats;
  return stats;
}

std::vector<std::shared_ptr<runtime::Library>> build_shared_objects(
    const std::vector<CompileJob>& jobs, const BuildOptions& options) {
  std::vector<std::shared_ptr<runtime::Library>> libraries(jobs.size());
  if (jobs.empty()) return libraries;
  const CompilerInfo& compiler = compiler_info();
  const std::vector<std::string> flags = compile_flags(options);
  std::string flag_text;
  for (const std::string& flag : flags) flag_text += flag + "\n";
  const fs::path dir = ensure_kernel_dir();

  CachedBuild steps;
  steps.jobs = jobs.size();
  steps.threads = options.jobs;
  steps.key = [&](size_t i) {
    return content_hash({jobs[i].source, compiler.identity, flag_text});
  };
  steps.name = [&](size_t i) -> const std::string& { return jobs[i].name; };
  steps.load = [&](size_t i, const std::string& key) {
    libraries[i] = load_cached(dir / (key + ".so"));
    return libraries[i] != nullptr;
  };
  steps.build = [&](size_t i, const std::string& key) {
    libraries[i] = compile_one(jobs[i], compiler, flags, dir, key);
  };
  steps.share = [&](size_t i, size_t from) { libraries[i] = libraries[from]; };
  steps.progress = options.progress;
  run_cached_build(steps);
  return libraries;
}

}  // namespace taskmap::build
