#pragma once
// The subcommands of the taskmap CLI. Each add_*_command registers one subcommand, its options
// and the callback that runs it; main() only builds the app and reports errors.
#include <CLI/CLI.hpp>

namespace taskmap::cli {

// `taskmap mapping EXPR [--worker W] [--all] [--lower]`: parses a task mapping expression and
// shows its workers, task shape and the tasks of each worker.
void add_mapping_command(CLI::App& app);

// `taskmap cache [--clear]`: location, size and clearing of the kernel cache.
void add_cache_command(CLI::App& app);

// `taskmap target [TARGET]`: this machine's CPU and CUDA targets and NVRTC, or one target resolved.
void add_target_command(CLI::App& app);

// `taskmap demo`: compiles, checks and times a task-mapped matmul and an auto-scheduled softmax.
void add_demo_command(CLI::App& app);

// `taskmap run MODEL ...`: compiles an ONNX model, runs it once, writes the outputs.
void add_run_command(CLI::App& app);

// `taskmap bench MODEL ...`: latency median / min / max after compilation.
void add_bench_command(CLI::App& app);

// `taskmap inspect MODEL ...`: inputs, outputs, operator histogram, FLOPs, memory plan.
void add_inspect_command(CLI::App& app);

// `taskmap export NAME -o FILE.onnx [--seed S]` / `taskmap export --list`: writes a bundled
// model as ONNX (opset 17).
void add_export_command(CLI::App& app);

}  // namespace taskmap::cli
