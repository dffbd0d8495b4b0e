// Entry point of the taskmap CLI: builds the command tree and turns errors into messages and exit
// codes. Bad input (a UserError) prints one line, "taskmap: error: ...", and exits with 1; a
// broken compiler invariant prints "taskmap: internal error: ..." and exits with 2.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "taskmap/error.h"

int main(int argc, char** argv) {
  CLI::App app{"taskmap: a deep learning compiler built on task mappings", "taskmap"};
  app.require_subcommand(1);
  taskmap::cli::add_run_command(app);
  taskmap::cli::add_bench_command(app);
  taskmap::cli::add_inspect_command(app);
  taskmap::cli::add_export_command(app);
  taskmap::cli::add_mapping_command(app);
  taskmap::cli::add_cache_command(app);
  taskmap::cli::add_target_command(app);
  taskmap::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const taskmap::UserError& error) {
    std::cerr << "taskmap: error: " << error.what() << "\n";
    return 1;
  } catch (const taskmap::InternalError& error) {
    std::cerr << "taskmap: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
