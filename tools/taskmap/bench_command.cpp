// `taskmap bench MODEL [--threads N] [--warmup W] [--repeat R] [--json]`: latency after
// compilation, on seeded random inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "model_args.h"

namespace taskmap::cli {

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure the latency of a compiled ONNX model");
  cmd->footer("Example: taskmap bench model.onnx --threads 2 --repeat 50 --json");
  auto args = std::make_shared<ModelArgs>();
  auto warmup = std::make_shared<int>(3);
  auto repeat = std::make_shared<int>(20);
  auto json = std::make_shared<bool>(false);
  args->add_to(cmd, /*with_inputs=*/true);
  cmd->add_option("--warmup", *warmup, "Runs before timing (default 3)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--repeat", *repeat, "Timed runs (default 20)")->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", *json, "Print one JSON object instead of text");
  cmd->callback([args, warmup, repeat, json] {
    Model model = args->load();
    std::vector<NDArray> inputs = args->make_inputs(model);
    CompileReport report = model.compile(graph::bindings_of(inputs));
    for (int i = 0; i < *warmup; ++i) model.run(inputs);
    std::vector<double> ms;
    for (int i = 0; i < *repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      model.run(inputs);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::sort(ms.begin(), ms.end());
    double median =
        ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    if (*json) {
      std::printf(
          "{\"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f, \"compile_s\": %.6f, "
          "\"repeat\": %d, \"threads\": %d, \"kernels\": %d}\n",
          median, ms.front(), ms.back(), report.seconds, *repeat, args->threads, report.kernels);
      return;
    }
    std::printf("compiled  %d kernels in %.2f s (%d built)\n", report.kernels, report.seconds,
                report.kernels_built);
    std::printf("latency   median %.3f ms  min %.3f ms  max %.3f ms  (%d runs after %d warm-up)\n",
                median, ms.front(), ms.back(), *repeat, *warmup);
    if (report.flops > 0)
      std::printf("          %.1f GFLOP/s at the median\n",
                  static_cast<double>(report.flops) / (median * 1e6));
  });
}

}  // namespace taskmap::cli
