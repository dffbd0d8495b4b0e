#pragma once
// What the C++ and the CUDA build drivers share: running the compilations of the cache misses on
// a few threads with progress reports, the build log switch, and trimming compiler output for an
// error message.
#include <cstddef>
#include <functional>
#include <string>

namespace taskmap::build {

// Runs task(0) ... task(count - 1) on up to `jobs` threads (0: one per hardware thread), each
// index once. progress(done, count) is called before the first task and after each one, one call
// at a time; not at all when count is 0 or progress is empty. Tasks must not throw.
void run_jobs(size_t count, int jobs, const std::function<void(size_t)>& task,
              const std::function<void(size_t, size_t)>& progress);

// The shape both drivers share: every job has a cache key (jobs with equal keys are built once and
// share the result); each distinct key is looked up in the cache, the misses are built by
// run_jobs; the first failing job in job order is rethrown once every build has finished.
struct CachedBuild {
  size_t jobs = 0;
  int threads = 0;                                                // as run_jobs' `jobs`
  std::function<std::string(size_t job)> key;                     // the job's cache key
  std::function<const std::string&(size_t job)> name;             // for the build log
  std::function<bool(size_t job, const std::string& key)> load;   // a hit: fills job's result
  std::function<void(size_t job, const std::string& key)> build;  // fills it, or throws
  std::function<void(size_t job, size_t from)> share;  // job's result = the result of job `from`
  std::function<void(size_t, size_t)> progress;        // as run_jobs'
};
void run_cached_build(const CachedBuild& steps);

// Whether TASKMAP_LOG contains "build" (one line per kernel to stderr).
bool build_log_enabled();

// `text` without trailing blank space, cut after `max_lines` lines with a note of how many more.
std::string trim_lines(const std::string& text, int max_lines);

}  // namespace taskmap::build
