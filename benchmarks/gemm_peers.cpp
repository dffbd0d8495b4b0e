// gemm_peers: times one fp32 GEMM, C[M,N] = A[M,K] * B[K,N] (row-major, no transposes, alpha 1,
// beta 0), in oneDNN (dnnl_sgemm) or OpenBLAS (cblas_sgemm), and prints one JSON object.
//
//   gemm_peers --lib dnnl|openblas --m M --n N --k K [--threads T] [--warmup W] [--repeat R]
//              [--seed S]
//
// Threads: OpenBLAS through openblas_set_num_threads(T); oneDNN (built on OpenMP in Debian) through
// omp_set_num_threads(T) (benchmarks/run.py also sets OMP_NUM_THREADS=T). OpenBLAS picks its
// kernels from OPENBLAS_CORETYPE, which the caller sets (SkylakeX, see docs/benchmarks.md); the
// core it chose is reported as "core".
//
// Built by benchmarks/run.py on first use:
//   g++ -O2 -std=c++17 -fopenmp gemm_peers.cpp -o gemm_peers -ldnnl -lopenblas
// Either library may be left out with -DGEMM_PEERS_NO_DNNL / -DGEMM_PEERS_NO_OPENBLAS (and its -l);
// asking for a library left out prints {"error": ...} and exits with status 2.
//
// The result is checked against a double-precision dot product at a few entries, so a run that
// is fast because it is wrong does not count (status 3).

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifndef GEMM_PEERS_NO_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#endif
#ifndef GEMM_PEERS_NO_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
#endif

namespace {

struct Options {
  std::string lib;
  int64_t m = 0, n = 0, k = 0;
  int threads = 1;
  int warmup = 3;
  int repeat = 20;
  unsigned seed = 0;
};

[[noreturn]] void fail(const std::string& message, int status) {
  std::printf("{\"error\": \"%s\"}\n", message.c_str());
  std::exit(status);
}

void usage() {
  std::fprintf(stderr,
               "usage: gemm_peers --lib dnnl|openblas --m M --n N --k K [--threads T] "
               "[--warmup W] [--repeat R] [--seed S]\n");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage();
      fail("missing value after " + a, 1);
    }
    std::string v = argv[++i];
    char* end = nullptr;
    long long x = std::strtoll(v.c_str(), &end, 10);
    bool numeric = end != v.c_str() && *end == '\0';
    if (a == "--lib") {
      o.lib = v;
      continue;
    }
    if (!numeric) fail("not a number after " + a + ": " + v, 1);
    if (a == "--m")
      o.m = x;
    else if (a == "--n")
      o.n = x;
    else if (a == "--k")
      o.k = x;
    else if (a == "--threads")
      o.threads = static_cast<int>(x);
    else if (a == "--warmup")
      o.warmup = static_cast<int>(x);
    else if (a == "--repeat")
      o.repeat = static_cast<int>(x);
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(x);
    else
      fail("unknown option " + a, 1);
  }
  if (o.lib != "dnnl" && o.lib != "openblas") fail("--lib must be dnnl or openblas", 1);
  if (o.m <= 0 || o.n <= 0 || o.k <= 0) fail("--m, --n and --k must be positive", 1);
  if (o.threads <= 0 || o.repeat <= 0 || o.warmup < 0) fail("bad --threads/--repeat/--warmup", 1);
  return o;
}

// 64-byte aligned buffer of floats.
struct Buffer {
  float* data = nullptr;
  explicit Buffer(size_t count) {
    size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
    data = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (data == nullptr) fail("out of memory", 4);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const int64_t M = o.m, N = o.n, K = o.k;

  Buffer a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)),
      c(static_cast<size_t>(M * N));
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < M * K; ++i) a.data[i] = dist(rng);
  for (int64_t i = 0; i < K * N; ++i) b.data[i] = dist(rng);
  std::memset(c.data, 0, static_cast<size_t>(M * N) * sizeof(float));

  std::string version, core;
  std::function<void()> gemm;  // filled below
  if (o.lib == "dnnl") {
#ifdef GEMM_PEERS_NO_DNNL
    fail("gemm_peers was built without oneDNN (dnnl.h or -ldnnl missing)", 2);
#else
    omp_set_num_threads(o.threads);
    const dnnl_version_t* v = dnnl_version();
    version =
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    core = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
    gemm = [&] {
      dnnl_status_t s = dnnl_sgemm('N', 'N', M, N, K, 1.0f, a.data, K, b.data, N, 0.0f, c.data, N);
      if (s != dnnl_success)
        fail("dnnl_sgemm returned status " + std::to_string(static_cast<int>(s)), 5);
    };
#endif
  } else {
#ifdef GEMM_PEERS_NO_OPENBLAS
    fail("gemm_peers was built without OpenBLAS (cblas.h or -lopenblas missing)", 2);
#else
    openblas_set_num_threads(o.threads);
    version = openblas_get_config();
    core = openblas_get_corename();
    gemm = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(M),
                  static_cast<int>(N), static_cast<int>(K), 1.0f, a.data, static_cast<int>(K),
                  b.data, static_cast<int>(N), 0.0f, c.data, static_cast<int>(N));
    };
#endif
  }

  for (int i = 0; i < o.warmup; ++i) gemm();
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(o.repeat));
  for (int i = 0; i < o.repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    gemm();
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }

  // Spot check: a few entries against a double-precision dot product.
  double worst = 0.0;
  const int64_t rows[] = {0, M / 2, M - 1};
  const int64_t cols[] = {0, N / 3, N - 1};
  for (int64_t i : rows) {
    for (int64_t j : cols) {
      double ref = 0.0, scale = 0.0;
      for (int64_t p = 0; p < K; ++p) {
        double t = static_cast<double>(a.data[i * K + p]) * b.data[p * N + j];
        ref += t;
        scale += std::fabs(t);
      }
      double err = std::fabs(ref - c.data[i * N + j]) / std::max(scale, 1e-30);
      worst = std::max(worst, err);
    }
  }
  if (!(worst < 1e-4)) fail("wrong result: relative error " + std::to_string(worst), 3);

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double gflop = 2.0 * static_cast<double>(M) * N * K * 1e-9;

  // Keep the strings JSON-safe (they are library-provided and may end in spaces).
  auto clean = [](std::string s) {
    for (char& ch : s)
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  };
  std::printf(
      "{\"lib\": \"%s\", \"m\": %lld, \"n\": %lld, \"k\": %lld, \"threads\": %d, \"warmup\": %d, "
      "\"repeat\": %d, \"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f, \"gflops\": %.3f, "
      "\"max_rel_err\": %.3g, \"version\": \"%s\", \"core\": \"%s\"}\n",
      o.lib.c_str(), static_cast<long long>(M), static_cast<long long>(N),
      static_cast<long long>(K), o.threads, o.warmup, o.repeat, median, sorted.front(),
      sorted.back(), gflop / (median * 1e-3), worst, clean(version).c_str(), clean(core).c_str());
  return 0;
}
