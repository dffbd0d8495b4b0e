// `taskmap mapping`: explains a task mapping expression. It prints the mapping as parsed, its
// number of workers, task shape, tasks per worker and mirroring register layout, then the tasks of
// one worker (--worker) or of every worker (a table, cut after kMaxRows rows unless --all), and
// optionally the symbolic lowering (--lower).
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "taskmap/error.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/layout.h"
#include "taskmap/ir/mapping.h"
#include "taskmap/ir/printer.h"

namespace taskmap::cli {
namespace {

using ir::TaskMapping;

// Longer listings are cut so a large mapping does not flood the terminal.
constexpr int64_t kMaxRows = 64;
constexpr size_t kMaxTasksPerRow = 64;
// tasks(w) materializes a worker's whole list; past this size the listing is skipped.
constexpr int64_t kMaxListedTasks = int64_t{1} << 20;

struct MappingOptions {
  std::string expression;
  bool one_worker = false;  // --worker given
  int64_t worker = 0;
  bool all = false;
  bool lower = false;
};

template <typename T>
std::string tuple_str(const std::vector<T>& values) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < values.size(); ++i) os << (i > 0 ? ", " : "") << values[i];
  os << ")";
  return os.str();
}

std::string tasks_str(const std::vector<ir::TaskIndex>& tasks, bool all) {
  std::ostringstream os;
  const size_t shown = all ? tasks.size() : std::min(tasks.size(), kMaxTasksPerRow);
  for (size_t i = 0; i < shown; ++i) os << (i > 0 ? " " : "") << tuple_str(tasks[i]);
  if (shown < tasks.size()) os << " ... (" << tasks.size() - shown << " more)";
  return os.str();
}

void print_lowering(const TaskMapping& mapping) {
  const ir::Var worker = ir::var("w");
  const TaskMapping::Lowered lowered = mapping.lower(worker);
  std::cout << "lowered (worker w):\n";
  std::string indent = "  ";
  for (size_t i = 0; i < lowered.loop_vars.size(); ++i) {
    const std::string hint = lowered.hints[i].str();
    std::cout << indent << "for " << lowered.loop_vars[i].name() << " in range("
              << lowered.extents[i] << ")" << (hint.empty() ? "" : " " + hint) << "\n";
    indent += "  ";
  }
  std::vector<std::string> coords;
  for (const ir::Expr& e : lowered.task) coords.push_back(ir::to_string(e));
  std::cout << indent << "task " << tuple_str(coords) << "\n";
}

void run_mapping_command(const MappingOptions& options) {
  const TaskMapping mapping = TaskMapping::parse(options.expression);
  const int64_t workers = mapping.num_workers();
  TM_USER_CHECK(!options.one_worker || (options.worker >= 0 && options.worker < workers))
      << "worker " << options.worker << " is out of range: " << mapping.str() << " has " << workers
      << (workers == 1 ? " worker (0)" : " workers (0.." + std::to_string(workers - 1) + ")");

  std::cout << "mapping      " << mapping.str() << "\n"
            << "workers      " << workers << "\n"
            << "task shape   " << tuple_str(mapping.task_shape()) << "\n"
            << "tasks/worker " << mapping.tasks_per_worker() << "\n"
            << "layout       " << ir::Layout::mirror(mapping).str() << "\n";
  if (options.lower) print_lowering(mapping);

  if (mapping.tasks_per_worker() > kMaxListedTasks) {
    std::cout << "(" << mapping.tasks_per_worker() << " tasks per worker: too many to list)\n";
    return;
  }
  if (options.one_worker) {
    std::cout << "worker " << options.worker << ": "
              << tasks_str(mapping.tasks(options.worker), options.all) << "\n";
    return;
  }
  const int64_t rows = options.all ? workers : std::min(workers, kMaxRows);
  const int width = static_cast<int>(std::to_string(workers - 1).size());
  for (int64_t w = 0; w < rows; ++w) {
    std::cout << "worker " << std::setw(width) << w << ": "
              << tasks_str(mapping.tasks(w), options.all) << "\n";
  }
  if (rows < workers) {
    std::cout << "... " << workers - rows
              << " more workers (use --all to list them, or --worker W for one)\n";
  }
}

}  // namespace

void add_mapping_command(CLI::App& app) {
  auto options = std::make_shared<MappingOptions>();
  CLI::App* command = app.add_subcommand(
      "mapping", "Show the workers, task shape and per-worker tasks of a task mapping expression");
  command
      ->add_option("expression", options->expression,
                   "Mapping expression: terms joined by '*', each spatial(n, ...), repeat(n, ...), "
                   "col_spatial(n, ...), col_repeat(n, ...) or auto_map(n, ..., workers=W); "
                   "spatial/repeat also take ranks=[...], repeat takes hints=[unroll, ...]")
      ->required();
  // Checked against the mapping's worker count once it is parsed, for a message that says both.
  command->add_option("-w,--worker", options->worker, "Show only the tasks of this worker");
  command->add_flag("--all", options->all,
                    "List every worker and every task (default: at most 64 of each)");
  command->add_flag(
      "--lower", options->lower,
      "Also print the symbolic lowering: the loops and index expressions of worker w");
  command->footer(
      "Examples:\n"
      "  taskmap mapping 'spatial(4, 8) * repeat(2, 2)' --worker 13\n"
      "    worker 13: (2, 10) (2, 11) (3, 10) (3, 11)\n"
      "  taskmap mapping 'repeat(2, 1) * spatial(8, 4) * repeat(1, 2)' --lower\n"
      "  taskmap mapping 'auto_map(8, 96, workers=64)'");
  command->callback([options, command] {
    options->one_worker = command->count("--worker") > 0;
    run_mapping_command(*options);
  });
}

}  // namespace taskmap::cli
