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

// `taskmap demo`: compiles, checks and times a task-mapped matmul and an auto-scheduled softmax.
void add_demo_command(CLI::App& app);

}  // namespace taskmap::cli
