// The build driver and its kernel cache: keys, hits, parallel and concurrent builds, the cache
// folder; plus CpuTarget's text form and the content hash. Every test gets a fresh cache folder.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "build/content_hash.h"
#include "build/target_text.h"
#include "taskmap/build/compiler.h"
#include "taskmap/error.h"
#include "taskmap/runtime/library.h"
#include "taskmap/target.h"

namespace taskmap::build {
namespace {
namespace fs = std::filesystem;

// A kernel that writes `value` to its one int argument.
CompileJob constant_job(const std::string& name, int value) {
  return {name, "extern \"C\" int taskmap_entry_" + name +
                    "(void* const* args) { *static_cast<int*>(args[0]) = " + std::to_string(value) +
                    "; return 0; }\n"};
}

int call(const std::shared_ptr<runtime::Library>& library, const std::string& name) {
  int result = -1;
  void* args[] = {&result};
  EXPECT_EQ(library->entry(name)(args), 0);
  return result;
}

class BuildCache : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/taskmap-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const char* old = getenv("TASKMAP_CACHE_DIR");
    if (old != nullptr) old_ = old;
    setenv("TASKMAP_CACHE_DIR", dir_.c_str(), 1);
    options_.target = CpuTarget::host();
  }
  void TearDown() override {
    if (old_.empty()) {
      unsetenv("TASKMAP_CACHE_DIR");
    } else {
      setenv("TASKMAP_CACHE_DIR", old_.c_str(), 1);
    }
    fs::remove_all(dir_);
  }

  // Names of the files in the kernels folder.
  std::set<std::string> files() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_ / "kernels")) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
  std::string old_;
  BuildOptions options_;
};

TEST_F(BuildCache, SecondBuildOfTheSameSourceIsACacheHit) {
  EXPECT_EQ(kernel_cache_dir(), dir_ / "kernels");
  int64_t compiles = build_stats().compiler_invocations;
  int64_t hits = build_stats().cache_hits;
  auto first = build_shared_objects({constant_job("seven", 7)}, options_);
  EXPECT_EQ(build_stats().compiler_invocations - compiles, 1);
  EXPECT_EQ(call(first.at(0), "seven"), 7);

  auto second = build_shared_objects({constant_job("seven", 7)}, options_);
  EXPECT_EQ(build_stats().compiler_invocations - compiles, 1) << "no new compile";
  EXPECT_EQ(build_stats().cache_hits - hits, 1);
  EXPECT_EQ(call(second.at(0), "seven"), 7);
  EXPECT_EQ(first.at(0)->path(), second.at(0)->path());

  // One .cpp and one .so named by a 32-hex-digit key, and no temporary left behind.
  std::set<std::string> names = files();
  ASSERT_EQ(names.size(), 2u);
  std::string key = fs::path(*names.begin()).stem().string();
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(names, (std::set<std::string>{key + ".cpp", key + ".so"}));
  EXPECT_EQ(kernel_cache_usage().files, 2);
  EXPECT_GT(kernel_cache_usage().bytes, 0);
}

TEST_F(BuildCache, DifferentFlagsGiveDifferentKeys) {
  auto plain = build_shared_objects({constant_job("k", 1)}, options_);
  BuildOptions with_flag = options_;
  with_flag.extra_flags = {"-DTASKMAP_TEST_FLAG=1"};
  int64_t compiles = build_stats().compiler_invocations;
  auto flagged = build_shared_objects({constant_job("k", 1)}, with_flag);
  EXPECT_EQ(build_stats().compiler_invocations - compiles, 1);
  EXPECT_NE(plain.at(0)->path(), flagged.at(0)->path());
  BuildOptions generic = options_;
  generic.target.isa = CpuTarget::Isa::generic;
  generic.target.cores += 1;  // not a flag: the same key as long as the ISA flags match
  auto other_isa = build_shared_objects({constant_job("k", 1)}, generic);
  EXPECT_EQ(other_isa.at(0)->path() == plain.at(0)->path(),
            generic.target.isa_flags() == options_.target.isa_flags());
}

TEST_F(BuildCache, ManyJobsBuildInParallelAndDuplicatesOnce) {
  std::vector<CompileJob> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(constant_job("k" + std::to_string(i), 10 + i));
  jobs.push_back(constant_job("k2", 12));  // same source as jobs[2]
  options_.jobs = 4;
  int64_t compiles = build_stats().compiler_invocations;
  auto libraries = build_shared_objects(jobs, options_);
  EXPECT_EQ(build_stats().compiler_invocations - compiles, 4);
  ASSERT_EQ(libraries.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(call(libraries[i], "k" + std::to_string(i)), 10 + i);
  EXPECT_EQ(libraries[4], libraries[2]);
  EXPECT_EQ(files().size(), 8u);
}

TEST_F(BuildCache, ConcurrentBuildsOfOneSourceAllSucceed) {
  // Each thread misses the cache and compiles; renames are atomic, so all see a complete file.
  std::vector<std::thread> threads;
  std::vector<int> results(3, -1);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      auto libraries = build_shared_objects({constant_job("shared", 99)}, options_);
      results[t] = call(libraries.at(0), "shared");
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(results, (std::vector<int>{99, 99, 99}));
  for (const std::string& name : files()) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name << " left behind";
  }
}

TEST_F(BuildCache, ClearRemovesEverything) {
  build_shared_objects({constant_job("gone", 3)}, options_);
  EXPECT_EQ(kernel_cache_usage().files, 2);
  clear_kernel_cache();
  EXPECT_EQ(kernel_cache_usage().files, 0);
  EXPECT_EQ(kernel_cache_usage().bytes, 0);
  int64_t compiles = build_stats().compiler_invocations;
  build_shared_objects({constant_job("gone", 3)}, options_);
  EXPECT_EQ(build_stats().compiler_invocations - compiles, 1) << "rebuilt after clear";
}

TEST(CacheDir, FollowsTheEnvironment) {
  std::vector<std::pair<const char*, std::string>> saved;
  for (const char* name : {"TASKMAP_CACHE_DIR", "XDG_CACHE_HOME", "HOME"}) {
    const char* value = getenv(name);
    saved.emplace_back(name, value != nullptr ? value : "");
  }
  setenv("TASKMAP_CACHE_DIR", "/somewhere/explicit", 1);
  EXPECT_EQ(kernel_cache_dir(), fs::path("/somewhere/explicit/kernels"));
  unsetenv("TASKMAP_CACHE_DIR");
  setenv("XDG_CACHE_HOME", "/somewhere/xdg", 1);
  EXPECT_EQ(cache_root_dir(), fs::path("/somewhere/xdg/taskmap"));
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(kernel_cache_dir(), fs::path("/home/someone/.cache/taskmap/kernels"));
  for (const auto& [name, value] : saved) {
    if (value.empty()) {
      unsetenv(name);
    } else {
      setenv(name, value.c_str(), 1);
    }
  }
}

TEST(ContentHash, IsStableAndSeparatesParts) {
  std::string key = content_hash({"ab", "c"});
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(key, content_hash(std::vector<std::string>{"ab", "c"}));
  EXPECT_NE(key, content_hash({"a", "bc"}));
  EXPECT_NE(key, content_hash({"abc"}));
}

TEST(CpuTargetText, RoundTripsAndOverridesTheHost) {
  CpuTarget host = CpuTarget::host();
  EXPECT_GE(host.cores, 1);
  EXPECT_GT(host.l1d_bytes, 0);
  EXPECT_EQ(CpuTarget::parse(host.str()), host);
  EXPECT_EQ(CpuTarget::parse("cpu"), host);

  CpuTarget t = CpuTarget::parse("cpu:avx512,cores=2,l1d=48k,l2=2m,l3=1g");
  EXPECT_EQ(t.isa, CpuTarget::Isa::avx512);
  EXPECT_EQ(t.cores, 2);
  EXPECT_EQ(t.l1d_bytes, 48 * 1024);
  EXPECT_EQ(t.l3_bytes, int64_t{1} << 30);
  EXPECT_EQ(t.str(), "cpu:avx512,cores=2,l1d=48k,l2=2m,l3=1g");
  EXPECT_EQ(t.vector_bytes(), 64);
  EXPECT_EQ(t.isa_flags().front(), "-march=x86-64-v4");
  EXPECT_EQ(CpuTarget::parse("cpu:x86-64-v3").vector_bytes(), 32);
  EXPECT_EQ(CpuTarget::parse("cpu:generic").isa_flags(), std::vector<std::string>{"-march=x86-64"});
  EXPECT_EQ(CpuTarget::parse("cpu:cores=3").isa, host.isa);
  EXPECT_EQ(CpuTarget::parse("cpu:l2=1000").l2_bytes, 1000);
}

// The caches as Linux describes them (a fake sysfs folder): the data or unified cache of each
// level, instruction caches skipped, sizes with either suffix case; 0 where none is described.
TEST(CpuTargetText, CacheSizesFromSysfs) {
  char pattern[] = "/tmp/taskmap-sysfs-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path dir = pattern;
  auto index = [&](int i, const char* level, const char* type, const char* size) {
    const fs::path folder = dir / ("index" + std::to_string(i));
    fs::create_directories(folder);
    std::ofstream(folder / "level") << level << "\n";
    std::ofstream(folder / "type") << type << "\n";
    std::ofstream(folder / "size") << size << "\n";
  };
  index(0, "1", "Instruction", "64K");
  index(1, "1", "Data", "48K");
  index(2, "2", "Unified", "1024K");
  index(3, "3", "Unified", "32m");
  EXPECT_EQ(sysfs_cache_bytes(dir.string(), 1), 48 * 1024);
  EXPECT_EQ(sysfs_cache_bytes(dir.string(), 2), 1024 * 1024);
  EXPECT_EQ(sysfs_cache_bytes(dir.string(), 3), 32 * 1024 * 1024);
  EXPECT_EQ(sysfs_cache_bytes(dir.string(), 4), 0);
  EXPECT_EQ(sysfs_cache_bytes((dir / "missing").string(), 1), 0);
  std::ofstream(dir / "index1" / "size") << "garbage\n";
  EXPECT_EQ(sysfs_cache_bytes(dir.string(), 1), 0);
  fs::remove_all(dir);
}

TEST(CpuTargetText, BadTextIsAUserError) {
  for (const char* text : {"gpu", "cpu:avx9", "cpu:cores=0", "cpu:cores=x", "cpu:l1d=12q",
                           "cpu:avx2,speed=3", "cpu;avx2", "cpu:avx2,avx512"}) {
    EXPECT_THROW(CpuTarget::parse(text), UserError) << text;
  }
  try {
    CpuTarget::parse("cpu:avx9");
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'avx9'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taskmap::build
