// The messages a user sees when building kernels goes wrong: a source that does not compile, an
// unusable cache folder, a missing compiler, a library without the kernel asked for.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "taskmap/build/compiler.h"
#include "taskmap/error.h"
#include "taskmap/runtime/library.h"

namespace taskmap::build {
namespace {
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

// Points TASKMAP_CACHE_DIR (and optionally TASKMAP_CXX) somewhere else for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

fs::path fresh_dir() {
  char pattern[] = "/tmp/taskmap-errors-XXXXXX";
  EXPECT_NE(mkdtemp(pattern), nullptr);
  return pattern;
}

TEST(BuildError, SyntaxErrorNamesKernelSourceAndDiagnostics) {
  fs::path dir = fresh_dir();
  ScopedEnv cache("TASKMAP_CACHE_DIR", dir.string());
  BuildOptions options;
  options.target = CpuTarget::host();
  CompileJob good{"fine", "extern \"C\" int taskmap_entry_fine(void* const*) { return 0; }\n"};
  CompileJob bad{"broken_kernel", "int broken( { return 0 }\n"};
  try {
    build_shared_objects({good, bad}, options);
    FAIL() << "expected a BuildError";
  } catch (const BuildError& e) {
    std::string message = e.what();
    EXPECT_TRUE(
        contains(message, "failed to build kernel 'broken_kernel': g++ exited with status 1\n"))
        << message;
    size_t at = message.find("  source: ");
    ASSERT_NE(at, std::string::npos) << message;
    std::string path = message.substr(at + 10, message.find('\n', at) - at - 10);
    EXPECT_TRUE(fs::exists(path)) << path << " is kept for the user to read";
    EXPECT_EQ(fs::path(path).parent_path(), dir / "kernels");
    EXPECT_TRUE(contains(message, "error:")) << message;
    EXPECT_TRUE(contains(message, path + ":1:")) << "diagnostics point into the source\n"
                                                 << message;
  }
  // The good job of the same batch was still built and cached.
  EXPECT_GE(kernel_cache_usage().files, 3);
  fs::remove_all(dir);
}

TEST(BuildError, LongDiagnosticsAreTrimmed) {
  fs::path dir = fresh_dir();
  ScopedEnv cache("TASKMAP_CACHE_DIR", dir.string());
  std::string source;
  for (int i = 0; i < 100; ++i) {
    source += "int x" + std::to_string(i) + " = undeclared_" + std::to_string(i) + ";\n";
  }
  try {
    build_shared_objects({{"noisy", source}}, BuildOptions{CpuTarget::host(), 1, {}, {}});
    FAIL() << "expected a BuildError";
  } catch (const BuildError& e) {
    std::string message = e.what();
    EXPECT_TRUE(contains(message, "more lines)")) << message;
    EXPECT_LT(std::count(message.begin(), message.end(), '\n'), 70);
  }
  fs::remove_all(dir);
}

TEST(BuildError, UnwritableCacheDirectoryIsAClearUserError) {
  fs::path dir = fresh_dir();
  fs::path file = dir / "a_file";
  std::ofstream(file) << "not a directory";
  ScopedEnv cache("TASKMAP_CACHE_DIR", (file / "cache").string());
  try {
    build_shared_objects({{"k", "int x;\n"}}, BuildOptions{CpuTarget::host(), 1, {}, {}});
    FAIL() << "expected a UserError";
  } catch (const BuildError& e) {
    FAIL() << "not a build error: " << e.what();
  } catch (const UserError& e) {
    std::string message = e.what();
    EXPECT_TRUE(contains(message, (file / "cache" / "kernels").string())) << message;
    EXPECT_TRUE(contains(message, "TASKMAP_CACHE_DIR")) << message;
  }
  fs::remove_all(dir);
}

TEST(BuildError, MissingCompilerIsAUserError) {
  fs::path dir = fresh_dir();
  ScopedEnv cache("TASKMAP_CACHE_DIR", dir.string());
  ScopedEnv cxx("TASKMAP_CXX", "/nonexistent/bin/c++");
  try {
    build_shared_objects({{"k", "int x;\n"}}, BuildOptions{CpuTarget::host(), 1, {}, {}});
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "cannot find the C++ compiler '/nonexistent/bin/c++'"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "TASKMAP_CXX")) << e.what();
  }
  fs::remove_all(dir);
}

TEST(LibraryError, MissingFileAndMissingKernelNameTheCulprit) {
  try {
    runtime::Library::open("/nonexistent/kernels/abc.so");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "cannot load kernel library '/nonexistent/kernels/abc.so'"))
        << e.what();
  }
  fs::path dir = fresh_dir();
  ScopedEnv cache("TASKMAP_CACHE_DIR", dir.string());
  auto libraries = build_shared_objects(
      {{"only", "extern \"C\" int taskmap_entry_only(void* const*) { return 0; }\n"}},
      BuildOptions{CpuTarget::host(), 1, {}, {}});
  EXPECT_TRUE(libraries.at(0)->has_entry("only"));
  try {
    libraries.at(0)->entry("other");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "has no kernel 'other'")) << e.what();
    EXPECT_TRUE(contains(e.what(), libraries.at(0)->path())) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace taskmap::build
