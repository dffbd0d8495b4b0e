// fma_peak: measures this machine's fp32 FMA throughput, the ceiling every GEMM and model figure
// of benchmarks/run.py is read against, and prints one JSON object.
//
//   fma_peak [--threads T] [--seconds S] [--rounds R] [--kernel fma|gemm]
//
// Each of T OpenMP threads runs a loop of independent fused multiply-adds on 24 vector
// accumulators: enough to cover FMA latency x two pipes on the cores we target, so the loop is
// bound by issue width, not by a dependency chain. AVX-512 (zmm) where the CPU has it, else AVX2 +
// FMA (ymm). The figure is the best of R rounds of about S seconds each: a peak is what the
// machine can do, and a round that a neighbour on the host slowed down does not show that.
//
// --kernel gemm measures instead what a GEMM's register micro-kernel can reach when everything it
// reads sits in L1: 6 rows x 4 vectors of accumulators (6 x 2 on AVX2), each k step loading the
// b vectors and broadcasting 6 a values, over a 32 KiB b panel and its a panel. The gap between
// the two figures is what the micro-kernel's loads cost on this machine before any cache miss:
// no GEMM, whatever its blocking, runs above it.
//
// The nominal peak (cores x GHz x flop/cycle) is not used because a VM does not say what its
// cores do: Zen 4 runs 512-bit FMAs at half the rate of Zen 5 under the same flags and name.
//
// Built by benchmarks/run.py on first use:
//   g++ -O2 -std=c++17 -fopenmp fma_peak.cpp -o fma_peak
// (GNU C++ contracts a * b + c into one FMA, -ffp-contract=fast being its default.)

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kAccumulators = 24;
constexpr int64_t kStepsPerCheck = 1 << 16;  // FMA batches between clock reads

// Returns the flops done; runs batches of kAccumulators FMAs on vectors of type V until `seconds`
// have passed. Always inlined into the wrappers below, so it is compiled for their ISA.
template <typename V>
__attribute__((always_inline)) inline double run_fmas(double seconds, float* sink) {
  constexpr int kLanes = sizeof(V) / sizeof(float);
  V acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = V{} + 0.001f * static_cast<float>(i);
  // Factors close to 1 keep the values finite for as long as the loop runs.
  const V a = V{} + 0.999999f, b = V{} + 1e-7f;
  int64_t batches = 0;
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int64_t s = 0; s < kStepsPerCheck; ++s) {
#pragma GCC unroll 24
      for (int i = 0; i < kAccumulators; ++i) acc[i] = acc[i] * a + b;  // contracted to an FMA
    }
    batches += kStepsPerCheck;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
    if (d.count() >= seconds) break;
  }
  V sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum += acc[i];
  *sink = sum[0] + sum[kLanes - 1];
  return static_cast<double>(batches) * kAccumulators * kLanes * 2;
}

// The GEMM micro-kernel over L1-resident panels: kRows x NV accumulators, NV b vectors loaded and
// kRows a values broadcast per k step, kSteps steps per pass over the panels.
template <typename V, int NV>
__attribute__((always_inline)) inline double run_gemm_kernel(double seconds, float* sink) {
  constexpr int kLanes = sizeof(V) / sizeof(float), kRows = 6, kSteps = 128;
  // (32 KiB of b panel with 16 lanes x 4 vectors; the a panel is 3 KiB.)
  alignas(64) static thread_local float a[kSteps * kRows];
  alignas(64) static thread_local V b[kSteps * NV];
  for (int i = 0; i < kSteps * kRows; ++i) a[i] = 0.5f + 0.001f * static_cast<float>(i % 7);
  for (int i = 0; i < kSteps * NV; ++i) b[i] = V{} + 1e-4f * static_cast<float>(i % 5);
  V acc[kRows * NV];
  for (int i = 0; i < kRows * NV; ++i) acc[i] = V{};
  int64_t passes = 0;
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int64_t s = 0; s < kStepsPerCheck / kSteps; ++s) {
      // Four steps an iteration, as taskmap's micro-kernel runs them, so that the loop's own
      // counter and branch take few issue slots.
      for (int k4 = 0; k4 < kSteps; k4 += 4)
#pragma GCC unroll 4
        for (int k = k4; k < k4 + 4; ++k) {
          V bv[NV];
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) bv[v] = b[k * NV + v];
#pragma GCC unroll 6
          for (int i = 0; i < kRows; ++i) {
            const V ai = a[k * kRows + i] - V{};  // a broadcast (x + 0 would cost an add)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i * NV + v] += ai * bv[v];
          }
        }
    }
    passes += kStepsPerCheck / kSteps;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
    if (d.count() >= seconds) break;
  }
  V sum = acc[0];
  for (int i = 1; i < kRows * NV; ++i) sum += acc[i];
  *sink = sum[0] + sum[kLanes - 1];
  return static_cast<double>(passes) * kSteps * kRows * NV * kLanes * 2;
}

typedef float F32x16 __attribute__((vector_size(64)));
typedef float F32x8 __attribute__((vector_size(32)));

__attribute__((target("avx512f"))) double run_avx512(bool gemm, double seconds, float* sink) {
  return gemm ? run_gemm_kernel<F32x16, 4>(seconds, sink) : run_fmas<F32x16>(seconds, sink);
}
__attribute__((target("avx2,fma"))) double run_avx2(bool gemm, double seconds, float* sink) {
  return gemm ? run_gemm_kernel<F32x8, 2>(seconds, sink) : run_fmas<F32x8>(seconds, sink);
}

[[noreturn]] void fail(const std::string& message) {
  std::printf("{\"error\": \"%s\"}\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, rounds = 10;
  double seconds = 0.2;
  bool gemm = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) fail("missing value after " + flag);
    if (flag == "--kernel") {
      const std::string kernel = argv[++i];
      if (kernel != "fma" && kernel != "gemm") fail("--kernel takes fma or gemm");
      gemm = kernel == "gemm";
      continue;
    }
    char* end = nullptr;
    double v = std::strtod(argv[++i], &end);
    if (*end != '\0' || v <= 0) fail("bad value for " + flag);
    if (flag == "--threads")
      threads = static_cast<int>(v);
    else if (flag == "--seconds")
      seconds = v;
    else if (flag == "--rounds")
      rounds = static_cast<int>(v);
    else
      fail("unknown option " + flag + " (use --threads, --seconds, --rounds, --kernel)");
  }
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    fail("the CPU has neither AVX-512F nor AVX2 + FMA");

  std::vector<double> round_gflops;
  std::vector<float> sinks(threads);
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> flops(threads, 0.0);
    auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num();
      flops[t] = avx512 ? run_avx512(gemm, seconds, &sinks[t]) : run_avx2(gemm, seconds, &sinks[t]);
    }
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
    double total = 0;
    for (double f : flops) total += f;
    // The slowest thread's end bounds the round, so this is the rate all threads sustained
    // together.
    round_gflops.push_back(total / d.count() * 1e-9);
  }
  double best = *std::max_element(round_gflops.begin(), round_gflops.end());
  std::printf(
      "{\"isa\": \"%s\", \"kernel\": \"%s\", \"threads\": %d, \"gflops\": %.2f, "
      "\"rounds_gflops\": [",
      avx512 ? "avx512" : "avx2", gemm ? "gemm" : "fma", threads, best);
  for (size_t i = 0; i < round_gflops.size(); ++i)
    std::printf("%s%.2f", i ? ", " : "", round_gflops[i]);
  std::printf("], \"sink\": %g}\n", static_cast<double>(sinks[0]));
  return 0;
}
