// The CUDA build driver: NVRTC loaded on first use, cache lookup, parallel compilation of the
// misses to cubins.
// Requires: NVRTC (CUDA 12 or 13) for cache misses; no CUDA headers at build time (the handful of
// NVRTC entry points are declared here with their C signatures).
// Guarantees: a .cubin under its final cache name is complete (written under a temporary name,
// then renamed); a failed compile leaves its .cu on disk and throws BuildError after every
// compilation started has finished.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "build/build_jobs.h"
#include "build/content_hash.h"
#include "build/kernel_cache.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::build {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxLogLines = 60;

// nvrtcProgram is an opaque pointer and nvrtcResult an enum (0 = NVRTC_SUCCESS).
using Program = void*;
using Result = int;

struct Nvrtc {
  const char* (*GetErrorString)(Result) = nullptr;
  Result (*Version)(int*, int*) = nullptr;
  Result (*CreateProgram)(Program*, const char*, const char*, int, const char* const*,
                          const char* const*) = nullptr;
  Result (*DestroyProgram)(Program*) = nullptr;
  Result (*CompileProgram)(Program, int, const char* const*) = nullptr;
  Result (*GetCUBINSize)(Program, size_t*) = nullptr;
  Result (*GetCUBIN)(Program, char*) = nullptr;
  Result (*GetProgramLogSize)(Program, size_t*) = nullptr;
  Result (*GetProgramLog)(Program, char*) = nullptr;
  std::string version;  // "13.0"
  std::string path;     // the library loaded
};

template <typename Fn>
bool bind(void* handle, const char* name, Fn* slot) {
  *slot = reinterpret_cast<Fn>(dlsym(handle, name));
  return *slot != nullptr;
}

// Loads NVRTC once per process; nullptr (and the reason) when it cannot be.
const Nvrtc* load_nvrtc(std::string* why_not) {
  static std::once_flag once;
  static Nvrtc nvrtc;
  static bool ok = false;
  static std::string reason;
  std::call_once(once, [] {
    std::vector<std::string> names;
    if (const char* env = std::getenv("TASKMAP_NVRTC"); env != nullptr && env[0] != '\0')
      names.push_back(env);
    else
      names = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
    void* handle = nullptr;
    std::string tried;
    for (const std::string& name : names) {
      handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle != nullptr) {
        nvrtc.path = name;
        break;
      }
      const char* error = dlerror();
      tried += "\n  " + name + ": " + (error != nullptr ? error : "cannot be loaded");
    }
    if (handle == nullptr) {
      reason =
          "NVRTC (the CUDA runtime compiler) cannot be loaded; install the CUDA toolkit, or "
          "set TASKMAP_NVRTC to the path of libnvrtc.so. Tried:" +
          tried;
      return;
    }
    ok = bind(handle, "nvrtcGetErrorString", &nvrtc.GetErrorString) &&
         bind(handle, "nvrtcVersion", &nvrtc.Version) &&
         bind(handle, "nvrtcCreateProgram", &nvrtc.CreateProgram) &&
         bind(handle, "nvrtcDestroyProgram", &nvrtc.DestroyProgram) &&
         bind(handle, "nvrtcCompileProgram", &nvrtc.CompileProgram) &&
         bind(handle, "nvrtcGetCUBINSize", &nvrtc.GetCUBINSize) &&
         bind(handle, "nvrtcGetCUBIN", &nvrtc.GetCUBIN) &&
         bind(handle, "nvrtcGetProgramLogSize", &nvrtc.GetProgramLogSize) &&
         bind(handle, "nvrtcGetProgramLog", &nvrtc.GetProgramLog);
    int major = 0, minor = 0;
    if (ok && nvrtc.Version(&major, &minor) == 0) {
      nvrtc.version = std::to_string(major) + "." + std::to_string(minor);
    } else {
      ok = false;
      reason = "'" + nvrtc.path +
               "' is not a usable NVRTC (an entry point or its version is "
               "missing)";
    }
  });
  if (!ok && why_not != nullptr) *why_not = reason;
  return ok ? &nvrtc : nullptr;
}

const Nvrtc& nvrtc_or_throw() {
  std::string why_not;
  const Nvrtc* nvrtc = load_nvrtc(&why_not);
  TM_USER_CHECK(nvrtc != nullptr) << why_not;
  return *nvrtc;
}

// The CUDA toolkit's headers (cuda_fp16.h, cuda_bf16.h), which NVRTC does not carry: from
// $CUDA_HOME or $CUDA_PATH, beside the loaded libnvrtc (lib64/../include), or /usr/local/cuda;
// "" when none holds them (f32 kernels need no header).
std::string toolkit_include_dir(const Nvrtc& nvrtc) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"}) {
    if (const char* root = std::getenv(env); root != nullptr && root[0] != '\0')
      candidates.push_back(fs::path(root) / "include");
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(nvrtc.Version), &info) != 0 && info.dli_fname != nullptr) {
    std::error_code ec;
    const fs::path library = fs::canonical(info.dli_fname, ec);
    if (!ec) candidates.push_back(library.parent_path().parent_path() / "include");
  }
  candidates.push_back("/usr/local/cuda/include");
  for (const fs::path& dir : candidates) {
    std::error_code ec;
    if (fs::exists(dir / "cuda_fp16.h", ec)) return dir.string();
  }
  return "";
}

std::vector<std::string> nvrtc_options(const CudaBuildOptions& options) {
  std::vector<std::string> out = {"--gpu-architecture=" + options.target.arch(), "-std=c++17"};
  static const std::string include_dir = toolkit_include_dir(nvrtc_or_throw());
  if (!include_dir.empty()) out.push_back("--include-path=" + include_dir);
  for (const std::string& option : options.extra_options) out.push_back(option);
  return out;
}

// Compiles one source; returns the cubin and fills `log` with NVRTC's messages.
std::string compile(const Nvrtc& nvrtc, const CudaCompileJob& job,
                    const std::vector<std::string>& options, const std::string& arch,
                    const fs::path& source, std::string* log) {
  Program program = nullptr;
  Result result = nvrtc.CreateProgram(&program, job.source.c_str(), (job.name + ".cu").c_str(), 0,
                                      nullptr, nullptr);
  if (result != 0) {
    throw BuildError("failed to build CUDA kernel '" + job.name +
                     "': NVRTC could not create the program: " + nvrtc.GetErrorString(result));
  }
  std::vector<const char*> argv;
  for (const std::string& option : options) argv.push_back(option.c_str());
  result = nvrtc.CompileProgram(program, static_cast<int>(argv.size()), argv.data());
  size_t log_size = 0;
  if (nvrtc.GetProgramLogSize(program, &log_size) == 0 && log_size > 1) {
    std::string text(log_size, '\0');
    if (nvrtc.GetProgramLog(program, text.data()) == 0) *log = trim_lines(text, kMaxLogLines);
  }
  std::string cubin;
  size_t cubin_size = 0;
  if (result == 0 && nvrtc.GetCUBINSize(program, &cubin_size) == 0 && cubin_size > 0) {
    cubin.resize(cubin_size);
    if (nvrtc.GetCUBIN(program, cubin.data()) != 0) cubin.clear();
  }
  nvrtc.DestroyProgram(&program);
  if (result != 0 || cubin.empty()) {
    throw BuildError(
        "failed to build CUDA kernel '" + job.name + "' for " + arch + ": NVRTC " + nvrtc.version +
        " " +
        (result != 0 ? std::string(nvrtc.GetErrorString(result)) : std::string("gave no cubin")) +
        "\n  source: " + source.string() + (log->empty() ? "" : "\n" + *log));
  }
  return cubin;
}

}  // namespace

bool nvrtc_available(std::string* why_not) {
  return load_nvrtc(why_not) != nullptr;
}

std::string nvrtc_version() {
  return nvrtc_or_throw().version;
}

std::vector<Cubin> build_cubins(const std::vector<CudaCompileJob>& jobs,
                                const CudaBuildOptions& options) {
  std::vector<Cubin> cubins(jobs.size());
  if (jobs.empty()) return cubins;
  const Nvrtc& nvrtc = nvrtc_or_throw();
  const std::vector<std::string> flags = nvrtc_options(options);
  std::string flag_text = "nvrtc " + nvrtc.version + "\n";
  for (const std::string& flag : flags) flag_text += flag + "\n";
  const fs::path dir = ensure_kernel_dir();
  const std::string arch = options.target.arch();

  CachedBuild steps;
  steps.jobs = jobs.size();
  steps.threads = options.jobs;
  steps.key = [&](size_t i) { return content_hash({jobs[i].source, flag_text}); };
  steps.name = [&](size_t i) -> const std::string& { return jobs[i].name; };
  steps.load = [&](size_t i, const std::string& key) {
    fs::path cubin = dir / (key + ".cubin"), log = dir / (key + ".log");
    std::error_code error;
    if (!fs::exists(cubin, error)) return false;
    cubins[i].path = cubin.string();
    if (fs::exists(log, error)) cubins[i].warnings = read_file(log.string(), "NVRTC log");
    return true;
  };
  steps.build = [&](size_t i, const std::string& key) {
    auto start = std::chrono::steady_clock::now();
    fs::path source = dir / (key + ".cu"), cubin = dir / (key + ".cubin");
    std::error_code error;
    if (!fs::exists(source, error)) write_file_atomically(source.string(), jobs[i].source);
    std::string log;
    std::string binary = compile(nvrtc, jobs[i], flags, arch, source, &log);
    // The log first: a reader that sees the cubin also sees its warnings.
    if (!log.empty()) write_file_atomically((dir / (key + ".log")).string(), log);
    write_file_atomically(cubin.string(), binary);
    cubins[i] = {cubin.string(), log};
    if (build_log_enabled()) {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "[taskmap] build %s: NVRTC %s in %.2f s (%s)\n", jobs[i].name.c_str(),
                   arch.c_str(), seconds, key.c_str());
    }
  };
  steps.share = [&](size_t i, size_t from) { cubins[i] = cubins[from]; };
  steps.progress = options.progress;
  run_cached_build(steps);
  return cubins;
}

}  // namespace taskmap::build
