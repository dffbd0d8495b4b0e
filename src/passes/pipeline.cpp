// The lowering pipeline, top to bottom. Each step is one pass in its own file.
#include "taskmap/passes/pipeline.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "passes/drop_unused_lets.h"
#include "passes/flatten_tensor_index.h"
#include "passes/hoist_guarded_loads.h"
#include "passes/inline_lets.h"
#include "passes/lower_task_mappings.h"
#include "passes/simplify_arithmetic.h"
#include "passes/split_loops_at_selects.h"
#include "passes/unroll_loops.h"
#include "taskmap/error.h"
#include "taskmap/ir/printer.h"

namespace taskmap::passes {

const std::vector<Pass>& lowering_passes() {
  static const std::vector<Pass> passes = {
      {"lower_task_mappings", lower_task_mappings},        // ForMapping -> loops + index arithmetic
      {"unroll_loops", unroll_loops},                      // copy bodies of `unroll` loops
      {"inline_lets", inline_lets},                        // substitute cheap index lets
      {"split_loops_at_selects", split_loops_at_selects},  // loops cut where selects change
      {"hoist_guarded_loads", hoist_guarded_loads},    // in-range loads out of invariant selects
      {"flatten_tensor_index", flatten_tensor_index},  // N-d access -> 1-d through layouts
      {"simplify_arithmetic", simplify_arithmetic},    // fold, simplify indices, drop dead code
      {"drop_unused_lets", drop_unused_lets},          // bindings nothing reads any more
  };
  return passes;
}

PipelineOptions PipelineOptions::from_env() {
  PipelineOptions o;
  if (const char* dump = std::getenv("TASKMAP_DUMP_IR");
      dump && *dump && std::string(dump) != "0") {
    o.dump = true;
    std::string value = dump;
    if (value != "1" && value != "stderr") o.dump_dir = value;
  }
  if (const char* t = std::getenv("TASKMAP_TIME_PASSES"); t && *t && std::string(t) != "0") {
    o.time = true;
  }
  return o;
}

namespace {

void dump(const PipelineOptions& o, const ir::Function& f, size_t step, const char* pass,
          bool changed) {
  std::string header = "// after " + std::string(pass) + (changed ? "" : " (unchanged)") + "\n";
  if (o.dump_dir.empty()) {
    std::fprintf(stderr, "%s%s\n", header.c_str(), changed ? ir::to_string(f).c_str() : "");
    return;
  }
  std::filesystem::path dir = std::filesystem::path(o.dump_dir) / f->name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TM_USER_CHECK(!ec) << "cannot create IR dump directory " << dir << ": " << ec.message();
  char name[256];
  std::snprintf(name, sizeof(name), "%02zu-%s.ir", step, pass);
  std::ofstream out(dir / name);
  out << header << ir::to_string(f);
  TM_USER_CHECK(out.good()) << "cannot write IR dump " << (dir / name);
}

}  // namespace

ir::Function lower(const ir::Function& input, const PipelineOptions& options) {
  ir::Function f = input;
  if (options.dump) dump(options, f, 0, "input", true);
  size_t step = 1;
  for (const Pass& pass : lowering_passes()) {
    auto start = std::chrono::steady_clock::now();
    ir::Function next = pass.run(f);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    bool changed = next.get() != f.get();
    f = next;
    if (options.dump) dump(options, f, step, pass.name, changed);
    if (options.time) {
      std::fprintf(stderr, "[taskmap] %-24s %-22s %8.3f ms%s\n", f->name.c_str(), pass.name, ms,
                   changed ? "" : "  (unchanged)");
    }
    ++step;
  }
  return f;
}

ir::Module lower(const ir::Module& m, const PipelineOptions& options) {
  ir::Module out{m.name, {}, m.workspace};
  for (const ir::Function& f : m.functions) out.functions.push_back(lower(f, options));
  return out;
}

}  // namespace taskmap::passes
