// `taskmap demo`: compiles and runs two kernels end to end — the task-mapped matmul template and
// an auto-scheduled softmax — checks them against a reference on random data and prints timings.
// It is the README's first command until bundled models arrive.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include <omp.h>

#include "commands.h"
#include "taskmap/build/compiler.h"
#include "taskmap/compile.h"
#include "taskmap/error.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/matmul_cpu.h"

namespace taskmap::cli {
namespace {

using namespace ir;

Task softmax_rows(int64_t rows, int64_t cols) {
  Var x = tensor_input("x", f32, {rows, cols});
  Expr row_max = compute("row_max", {rows}, [&](const Index& i) {
    return reduce(ReduceOp::max, {cols}, [&](const Index& r) { return load(x, {i[0], r[0]}); });
  });
  Expr e = compute("e", {rows, cols}, [&](const Index& ij) {
    return call("exp", {load(x, ij) - load(row_max, {ij[0]})});
  });
  Expr row_sum = compute("row_sum", {rows}, [&](const Index& i) {
    return reduce(ReduceOp::sum, {cols}, [&](const Index& r) { return load(e, {i[0], r[0]}); });
  });
  Expr y = compute("y", {rows, cols},
                   [&](const Index& ij) { return load(e, ij) / load(row_sum, {ij[0]}); });
  return Task("softmax", {x}, {y});
}

double median_ms(const std::function<void()>& run, int repeat) {
  std::vector<double> times;
  for (int r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void run_demo(int64_t n, int threads, int repeat) {
  TM_USER_CHECK(n > 0 && n <= 8192) << "--size must be in [1, 8192], got " << n;
  TM_USER_CHECK(repeat > 0) << "--repeat must be positive, got " << repeat;
  if (threads > 0) omp_set_num_threads(threads);
  CpuTarget target = CpuTarget::host();
  std::printf("target      %s\n", target.str().c_str());

  Task matmul = schedules::matmul_task(n, n, n);
  Task softmax = softmax_rows(n, n);
  std::vector<Function> kernels = {implement_cpu(matmul, target),
                                   schedules::auto_schedule_cpu(softmax)};
  std::printf("compiling   %zu kernels (matmul template, auto-scheduled softmax) ...\n",
              kernels.size());
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  int64_t compiles_before = build::build_stats().compiler_invocations;
  std::vector<CompiledKernel> compiled = compile_kernels(kernels);
  double compile_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t compiled_now = build::build_stats().compiler_invocations - compiles_before;
  std::printf("compiled    in %.2f s (%lld built, %lld from the cache at %s)\n", compile_s,
              static_cast<long long>(compiled_now),
              static_cast<long long>(kernels.size() - compiled_now),
              build::kernel_cache_dir().c_str());

  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(n * n), b(n * n), c(n * n, NAN), y(n * n, NAN);
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);

  compiled[0]({a.data(), b.data(), c.data()});
  compiled[1]({c.data(), y.data()});

  // Check a few rows against a double-precision reference.
  double max_err = 0;
  for (int64_t i = 0; i < n; i += std::max<int64_t>(1, n / 8)) {
    std::vector<double> row(n, 0.0);
    for (int64_t k = 0; k < n; ++k) {
      for (int64_t j = 0; j < n; ++j) row[j] += double(a[i * n + k]) * b[k * n + j];
    }
    double m = *std::max_element(row.begin(), row.end()), s = 0;
    for (double v : row) s += std::exp(v - m);
    for (int64_t j = 0; j < n; ++j) {
      double expected = std::exp(row[j] - m) / s;
      max_err = std::max(max_err, std::abs(y[i * n + j] - expected) / std::max(expected, 1e-30));
    }
  }
  TM_USER_CHECK(max_err < 1e-3) << "demo results differ from the reference (relative error "
                                << max_err << ")";

  double mm_ms = median_ms([&] { compiled[0]({a.data(), b.data(), c.data()}); }, repeat);
  double sm_ms = median_ms([&] { compiled[1]({c.data(), y.data()}); }, repeat);
  double gflops = 2.0 * n * n * n / (mm_ms * 1e6);
  std::printf("matmul      %lldx%lldx%lld  median %.3f ms  (%.1f GFLOP/s)\n",
              static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n),
              mm_ms, gflops);
  std::printf("softmax     %lldx%lld       median %.3f ms\n", static_cast<long long>(n),
              static_cast<long long>(n), sm_ms);
  std::printf("check       softmax(A·B) matches the reference (max relative error %.2e)\n",
              max_err);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Compile and run a task-mapped matmul and an auto-scheduled softmax, check and time them");
  auto size = std::make_shared<int64_t>(512);
  auto threads = std::make_shared<int>(0);
  auto repeat = std::make_shared<int>(10);
  cmd->add_option("--size", *size, "Matrix size N (N x N x N matmul, N x N softmax)")
      ->capture_default_str();
  cmd->add_option("--threads", *threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--repeat", *repeat, "Timed runs; the median is reported")->capture_default_str();
  cmd->callback([=] { run_demo(*size, *threads, *repeat); });
}

}  // namespace taskmap::cli
