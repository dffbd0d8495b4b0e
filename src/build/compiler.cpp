// The build driver: cache lookup, parallel compilation of the misses, loading the results.
// Requires: a C++17 compiler with OpenMP ($TASKMAP_CXX, default g++) for cache misses.
// Guarantees: a .so under its final cache name is complete (built under a temporary name, then
// renamed); a failed compile leaves its .cpp on disk and throws BuildError after every compiler
// started has finished.
#include "taskmap/build/compiler.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

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

bool log_enabled() {
  const char* log = std::getenv("TASKMAP_LOG");
  return log != nullptr && std::string_view(log).find("build") != std::string_view::npos;
}

std::string trim_diagnostics(const std::string& output) {
  std::string text = output;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t pos = 0;
  for (int line = 0; line < kMaxDiagnosticLines; ++line) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return text;
    ++pos;
  }
  int64_t rest = 1;
  for (size_t i = pos; i < text.size(); ++i) rest += text[i] == '\n';
  return text.substr(0, pos) + "... (" + std::to_string(rest) + " more lines)";
}

// One kernel to compile.
struct Miss {
  size_t job;  // index of the first job with this key
  std::string key;
  std::exception_ptr error;
};

void compile_one(const CompileJob& job, const CompilerInfo& compiler,
                 const std::vector<std::string>& flags, const fs::path& dir, Miss& miss,
                 std::shared_ptr<runtime::Library>& library) {
  auto start = std::chrono::steady_clock::now();
  fs::path source = dir / (miss.key + ".cpp");
  fs::path object = dir / (miss.key + ".so");
  std::error_code error;
  if (!fs::exists(source, error)) write_file_atomically(source.string(), job.source);

  fs::path temporary = temporary_path_for(object.string());
  std::vector<std::string> argv = compiler.argv;
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-o", temporary.string(), source.string()});
  build_stats().compiler_invocations.fetch_add(1);
  ProcessResult result = run_process(argv);
  if (!result.ok()) {
    fs::remove(temporary, error);
    throw BuildError("failed to build kernel '" + job.name + "': " + compiler.command + " " +
                     result.describe() + "\n  source: " + source.string() + "\n" +
                     trim_diagnostics(result.output));
  }
  fs::rename(temporary, object, error);
  if (error) {
    fs::remove(temporary, error);
    TM_USER_ERROR() << "cannot move the compiled kernel '" << job.name << "' into the cache at '"
                    << object.string() << "': " << error.message();
  }
  library = runtime::Library::open(object.string());
  if (log_enabled()) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "[taskmap] build %s: compiled in %.2f s (%s)\n", job.name.c_str(), seconds,
                 miss.key.c_str());
  }
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

  std::vector<Miss> misses;
  std::map<std::string, size_t> first_job_of_key;
  std::vector<size_t> first_job(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::string key = content_hash({jobs[i].source, compiler.identity, flag_text});
    auto [it, inserted] = first_job_of_key.emplace(key, i);
    first_job[i] = it->second;
    if (!inserted) continue;
    libraries[i] = load_cached(dir / (key + ".so"));
    if (libraries[i] == nullptr) {
      misses.push_back({i, key, nullptr});
    } else {
      build_stats().cache_hits.fetch_add(1);
      if (log_enabled()) {
        std::fprintf(stderr, "[taskmap] build %s: cache hit %s\n", jobs[i].name.c_str(),
                     key.c_str());
      }
    }
  }

  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  size_t compiled = 0;
  if (options.progress && !misses.empty()) options.progress(0, misses.size());
  auto work = [&] {
    for (size_t m = next.fetch_add(1); m < misses.size(); m = next.fetch_add(1)) {
      try {
        compile_one(jobs[misses[m].job], compiler, flags, dir, misses[m], libraries[misses[m].job]);
      } catch (...) {
        misses[m].error = std::current_exception();
      }
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(++compiled, misses.size());
      }
    }
  };
  size_t workers =
      options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, misses.size());
  if (workers <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);
    for (std::thread& thread : pool) thread.join();
  }
  // Misses are in job order, so this reports the first failing job.
  for (const Miss& miss : misses) {
    if (miss.error) std::rethrow_exception(miss.error);
  }

  for (size_t i = 0; i < jobs.size(); ++i) {
    if (first_job[i] != i) {
      libraries[i] = libraries[first_job[i]];
      build_stats().cache_hits.fetch_add(1);
    }
  }
  return libraries;
}

}  // namespace taskmap::build
