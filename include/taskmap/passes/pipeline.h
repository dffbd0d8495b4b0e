#pragma once
// The lowering pipeline: the list of IR passes that turns a scheduled kernel (task mappings,
// multi-dimensional tensors with layouts) into the loops and flat indices that code generation
// prints. The list itself is in src/passes/pipeline.cpp, one named step per line.
//
// Observability, from the environment (or PipelineOptions):
//   TASKMAP_DUMP_IR=1        print the IR after every pass to stderr ("unchanged" when a pass
//                            changed nothing)
//   TASKMAP_DUMP_IR=<dir>    write <dir>/<kernel>/<NN>-<pass>.ir instead
//   TASKMAP_TIME_PASSES=1    print the time of every pass to stderr
#include <string>
#include <vector>

#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

struct PipelineOptions {
  bool dump = false;
  std::string dump_dir;  // empty: dump to stderr
  bool time = false;
  static PipelineOptions from_env();
};

struct Pass {
  const char* name;
  ir::Function (*run)(const ir::Function&);
};

// The passes in the order they run.
const std::vector<Pass>& lowering_passes();

ir::Function lower(const ir::Function& f,
                   const PipelineOptions& options = PipelineOptions::from_env());
ir::Module lower(const ir::Module& m, const PipelineOptions& options = PipelineOptions::from_env());

}  // namespace taskmap::passes
