// Running compilations in parallel, the log switch and output trimming for both build drivers.
// Requires: nothing. Guarantees: run_jobs returns after every task has finished.
#include "build/build_jobs.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "taskmap/build/compiler.h"

namespace taskmap::build {

void run_jobs(size_t count, int jobs, const std::function<void(size_t)>& task,
              const std::function<void(size_t, size_t)>& progress) {
  if (count == 0) return;
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  size_t done = 0;
  if (progress) progress(0, count);
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      task(i);
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress(++done, count);
      }
    }
  };
  size_t workers =
      jobs > 0 ? static_cast<size_t>(jobs) : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, count);
  if (workers <= 1) {
    work();
    return;
  }
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);
  for (std::thread& thread : pool) thread.join();
}

void run_cached_build(const CachedBuild& steps) {
  struct Miss {
    size_t job;
    std::string key;
    std::exception_ptr error;
  };
  std::vector<Miss> misses;
  std::map<std::string, size_t> first_job_of_key;
  std::vector<size_t> first_job(steps.jobs);
  for (size_t i = 0; i < steps.jobs; ++i) {
    std::string key = steps.key(i);
    auto [it, inserted] = first_job_of_key.emplace(key, i);
    first_job[i] = it->second;
    if (!inserted) continue;
    if (!steps.load(i, key)) {
      misses.push_back({i, key, nullptr});
      continue;
    }
    build_stats().cache_hits.fetch_add(1);
    if (build_log_enabled())
      std::fprintf(stderr, "[taskmap] build %s: cache hit %s\n", steps.name(i).c_str(),
                   key.c_str());
  }
  run_jobs(
      misses.size(), steps.threads,
      [&](size_t m) {
        try {
          build_stats().compiler_invocations.fetch_add(1);
          steps.build(misses[m].job, misses[m].key);
        } catch (...) {
          misses[m].error = std::current_exception();
        }
      },
      steps.progress);
  // Misses are in job order, so this reports the first failing job.
  for (const Miss& miss : misses) {
    if (miss.error) std::rethrow_exception(miss.error);
  }
  for (size_t i = 0; i < steps.jobs; ++i) {
    if (first_job[i] == i) continue;
    steps.share(i, first_job[i]);
    build_stats().cache_hits.fetch_add(1);
  }
}

bool build_log_enabled() {
  const char* log = std::getenv("TASKMAP_LOG");
  return log != nullptr && std::string_view(log).find("build") != std::string_view::npos;
}

std::string trim_lines(const std::string& text, int max_lines) {
  std::string out = text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\0'))
    out.pop_back();
  size_t pos = 0;
  for (int line = 0; line < max_lines; ++line) {
    pos = out.find('\n', pos);
    if (pos == std::string::npos) return out;
    ++pos;
  }
  int64_t rest = 1;
  for (size_t i = pos; i < out.size(); ++i) rest += out[i] == '\n';
  return out.substr(0, pos) + "... (" + std::to_string(rest) + " more lines)";
}

}  // namespace taskmap::build
