// The CUDA build driver (NVRTC): a kernel compiles to a cubin for sm_80 and for sm_90 without
// warnings, the cache serves it the second time, warnings and errors are reported with the
// kernel's name, the architecture and the source's path. Needs NVRTC, not a GPU.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "taskmap/build/cuda_compiler.h"
#include "taskmap/error.h"

namespace taskmap::build {
namespace {
namespace fs = std::filesystem;

// A block sum: shared memory, a barrier, warp shuffles and an atomic, the primitives the CUDA
// printer emits.
constexpr const char* kBlockSum = R"(
extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ out, int n) {
  __shared__ float partial[32];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x == 0) atomicAdd(out, v);
  }
}
)";

class NvrtcBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
    char pattern[] = "/tmp/taskmap-nvrtc-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    if (const char* old = getenv("TASKMAP_CACHE_DIR")) old_ = old;
    setenv("TASKMAP_CACHE_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (dir_.empty()) return;
    if (old_.empty())
      unsetenv("TASKMAP_CACHE_DIR");
    else
      setenv("TASKMAP_CACHE_DIR", old_.c_str(), 1);
    fs::remove_all(dir_);
  }

  static CudaBuildOptions for_arch(const std::string& arch) {
    CudaBuildOptions options;
    options.target = CudaTarget::parse("cuda:" + arch);
    return options;
  }

  static std::string head(const std::string& path, size_t bytes) {
    std::ifstream in(path, std::ios::binary);
    std::string text(bytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(bytes));
    text.resize(static_cast<size_t>(in.gcount()));
    return text;
  }

  fs::path dir_;
  std::string old_;
};

TEST_F(NvrtcBuild, CompilesForSm80AndSm90WithoutWarningsThenHitsTheCache) {
  EXPECT_FALSE(nvrtc_version().empty());
  std::vector<CudaCompileJob> jobs = {{"block_sum", kBlockSum}};
  std::vector<std::string> paths;
  for (const char* arch : {"sm_80", "sm_90", "sm_90a"}) {
    SCOPED_TRACE(arch);
    int64_t before = build_stats().compiler_invocations.load();
    std::vector<Cubin> cubins = build_cubins(jobs, for_arch(arch));
    ASSERT_EQ(cubins.size(), 1u);
    EXPECT_EQ(build_stats().compiler_invocations.load(), before + 1);
    EXPECT_EQ(cubins[0].warnings, "");
    EXPECT_EQ(head(cubins[0].path, 4),
              "\x7f"
              "ELF");  // a cubin is an ELF image
    paths.push_back(cubins[0].path);

    // Again: served by the cache, no NVRTC run, the same file.
    int64_t hits = build_stats().cache_hits.load();
    std::vector<Cubin> again = build_cubins(jobs, for_arch(arch));
    EXPECT_EQ(build_stats().compiler_invocations.load(), before + 1);
    EXPECT_EQ(build_stats().cache_hits.load(), hits + 1);
    EXPECT_EQ(again[0].path, cubins[0].path);
  }
  // One cubin per architecture.
  EXPECT_NE(paths[0], paths[1]);
  EXPECT_NE(paths[1], paths[2]);
  EXPECT_TRUE(fs::exists(fs::path(paths[0]).replace_extension(".cu")));
}

TEST_F(NvrtcBuild, EqualSourcesCompileOnceAndProgressIsReported) {
  std::vector<CudaCompileJob> jobs = {{"a", kBlockSum}, {"b", kBlockSum}};
  std::vector<std::pair<size_t, size_t>> calls;
  CudaBuildOptions options = for_arch("sm_90");
  options.progress = [&](size_t done, size_t total) { calls.emplace_back(done, total); };
  int64_t before = build_stats().compiler_invocations.load();
  std::vector<Cubin> cubins = build_cubins(jobs, options);
  EXPECT_EQ(build_stats().compiler_invocations.load(), before + 1);
  EXPECT_EQ(cubins[0].path, cubins[1].path);
  EXPECT_EQ(calls, (std::vector<std::pair<size_t, size_t>>{{0, 1}, {1, 1}}));
}

TEST_F(NvrtcBuild, WarningsAreReturnedAndKeptWithTheCachedCubin) {
  std::vector<CudaCompileJob> jobs = {
      {"warns", "extern \"C\" __global__ void warns(float* y) { int unused = 3; y[0] = 1.0f; }\n"}};
  std::vector<Cubin> cubins = build_cubins(jobs, for_arch("sm_90"));
  EXPECT_NE(cubins[0].warnings.find("unused"), std::string::npos) << cubins[0].warnings;
  std::vector<Cubin> again = build_cubins(jobs, for_arch("sm_90"));
  EXPECT_EQ(again[0].warnings, cubins[0].warnings);
}

TEST_F(NvrtcBuild, ACompileErrorNamesTheKernelTheArchitectureTheSourceAndTheLog) {
  std::vector<CudaCompileJob> jobs = {
      {"good", kBlockSum},
      {"broken", "extern \"C\" __global__ void broken(float* y) { y[0] = undeclared_name; }\n"}};
  try {
    build_cubins(jobs, for_arch("sm_90"));
    FAIL() << "a broken source built";
  } catch (const BuildError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("'broken'"), std::string::npos) << message;
    EXPECT_NE(message.find("sm_90"), std::string::npos) << message;
    EXPECT_NE(message.find("undeclared_name"), std::string::npos) << message;
    size_t at = message.find("source: ");
    ASSERT_NE(at, std::string::npos) << message;
    std::string path = message.substr(at + 8, message.find('\n', at) - at - 8);
    EXPECT_TRUE(fs::exists(path)) << path;  // left on disk for reading
  }
  // The good kernel's cubin was still written; no cubin for the broken one.
  int cubins = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "kernels"))
    cubins += entry.path().extension() == ".cubin";
  EXPECT_EQ(cubins, 1);
}

}  // namespace
}  // namespace taskmap::build
