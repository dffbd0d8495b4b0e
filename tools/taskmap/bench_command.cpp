// `taskmap bench MODEL [--threads N] [--warmup W] [--repeat R] [--json]`: latency after
// compilation, on seeded random inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "model_args.h"

namespace taskmap::cli {
namespace {

// The `limit` slowest kernels, slowest first, with their share of the summed kernel time.
void print_profile(std::vector<Model::KernelTime> times, int limit) {
  double total = 0;
  for (const auto& t : times) total += t.ms;
  std::stable_sort(times.begin(), times.end(),
                   [](const auto& a, const auto& b) { return a.ms > b.ms; });
  std::printf("kernels   %zu, %.3f ms in total (mean of the timed runs)\n", times.size(), total);
  for (size_t i = 0; i < times.size() && i < static_cast<size_t>(limit); ++i) {
    std::printf("  %8.3f ms %5.1f%%  %s\n", times[i].ms,
                total > 0 ? 100.0 * times[i].ms / total : 0.0, times[i].label.c_str());
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure the latency of a compiled ONNX model");
  cmd->footer("Example: taskmap bench model.onnx --threads 2 --repeat 50 --json");
  auto args = std::make_shared<ModelArgs>();
  auto warmup = std::make_shared<int>(3);
  auto repeat = std::make_shared<int>(20);
  auto json = std::make_shared<bool>(false);
  auto profile = std::make_shared<int>(0);
  args->add_to(cmd, /*with_inputs=*/true);
  cmd->add_option("--warmup", *warmup, "Runs before timing (default 3)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--repeat", *repeat, "Timed runs (default 20)")->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", *json, "Print one JSON object instead of text");
  cmd->add_option("--profile", *profile,
                  "After timing, print the N slowest kernels with their share of the run")
      ->check(CLI::Range(1, 100000));
  cmd->callback([args, warmup, repeat, json, profile] {
    Model model = args->load();
    std::vector<NDArray> inputs = args->make_inputs(model);
    CompileReport report = model.compile(graph::bindings_of(inputs));
    print_warnings(report);
    for (int i = 0; i < *warmup; ++i) model.run(inputs);
    // On a GPU, also the device's own time for the kernels of each run (CUDA events), which
    // leaves out the copies in and out that a call includes.
    const bool gpu = args->target.rfind("cuda", 0) == 0;
    std::vector<double> ms, device_ms;
    for (int i = 0; i < *repeat; ++i) {
      double device = 0;
      auto start = std::chrono::steady_clock::now();
      model.run(inputs, gpu ? &device : nullptr);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (gpu) device_ms.push_back(device);
    }
    auto median_of = [](std::vector<double>& v) {
      std::sort(v.begin(), v.end());
      return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    const double median = median_of(ms);
    const double device_median = gpu ? median_of(device_ms) : 0;
    if (*json) {
      std::string device_field;
      if (gpu) device_field = ", \"device_median_ms\": " + std::to_string(device_median);
      std::printf(
          "{\"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f%s, \"compile_s\": %.6f, "
          "\"repeat\": %d, \"threads\": %d, \"kernels\": %d, \"target\": \"%s\"}\n",
          median, ms.front(), ms.back(), device_field.c_str(), report.seconds, *repeat,
          args->threads, report.kernels, args->target.c_str());
      return;
    }
    std::printf("compiled  %d kernels in %.2f s (%d built)\n", report.kernels, report.seconds,
                report.kernels_built);
    std::printf("latency   median %.3f ms  min %.3f ms  max %.3f ms  (%d runs after %d warm-up)\n",
                median, ms.front(), ms.back(), *repeat, *warmup);
    if (gpu)
      std::printf("          median %.3f ms on the GPU (its kernels alone, without the copies)\n",
                  device_median);
    if (report.flops > 0)
      std::printf("          %.1f GFLOP/s at the median\n",
                  static_cast<double>(report.flops) / (median * 1e6));
    if (*profile > 0) print_profile(model.profile(inputs, *repeat), *profile);
  });
}

}  // namespace taskmap::cli
