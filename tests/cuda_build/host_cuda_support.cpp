#include "cuda_build/host_cuda_support.h"

#include <string>

#include "ops/ops_support.h"
#include "taskmap/build/compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/error.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::testing {

void run_cuda_on_host(const ir::Module& scheduled, const CudaTarget& target,
                      const std::vector<void*>& buffers) {
  const codegen::CudaSource source =
      codegen::generate_cuda_source(passes::lower(scheduled), target);
  std::string text =
      read_file(std::string(TASKMAP_SOURCE_DIR) + "/tests/cuda_build/host_cuda_shim.h", "shim");
  text += "\n" + source.text + "\n";
  for (const ir::Function& f : scheduled.functions) {
    const std::string& symbol = source.symbols.at(f->name);
    text += "extern \"C\" int taskmap_entry_" + symbol +
            "(void* const* args) { return tm_host::launch(" + symbol + ", args); }\n";
  }
  const bool has_failure = !source.assertion_messages.empty();
  if (has_failure)
    text += "extern \"C\" int taskmap_entry_tm_host_failure(void* const*) { return tm_failure; }\n";
  build::BuildOptions options;
  options.extra_flags = {"-std=c++20", "-pthread", "-O1"};
  const auto library = build::build_shared_objects({{scheduled.name + "_host", text}}, options)[0];
  for (const ir::Function& f : scheduled.functions) {
    TM_ASSERT(f->params.size() == buffers.size())
        << f->name << " takes " << f->params.size() << " arguments, " << buffers.size()
        << " were given";
    unsigned grid = static_cast<unsigned>(std::stoul(f->attrs.at("cuda.grid_dim")));
    unsigned block = static_cast<unsigned>(std::stoul(f->attrs.at("cuda.block_dim")));
    std::vector<void*> pointers = buffers;  // the kernel reads each parameter through a pointer
    std::vector<void*> args;
    for (void*& p : pointers) args.push_back(&p);
    args.push_back(&grid);
    args.push_back(&block);
    library->entry(source.symbols.at(f->name))(args.data());
  }
  if (has_failure) {
    const int code = library->entry("tm_host_failure")(nullptr);
    TM_USER_CHECK(code == 0) << "assertion failed in the emulated kernel: "
                             << source.assertion_messages.at(code - 1);
  }
}

void expect_emulated_matches_cpu(const ir::Task& task, const ir::Module& scheduled,
                                 const CudaTarget& target, const std::string& what) {
  const std::vector<ir::Var> params = task.params();
  const size_t num_inputs = task.inputs().size();
  std::vector<std::vector<float>> cpu(params.size()), emulated(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].type().numel();
    cpu[i] = i < num_inputs ? random_data(n) : poisoned(n);
    emulated[i] = i < num_inputs ? cpu[i] : poisoned(n);
  }
  std::vector<void*> cpu_args, emulated_args;
  for (auto& data : cpu) cpu_args.push_back(data.data());
  for (auto& data : emulated) emulated_args.push_back(data.data());
  compile_all_auto({task})[0](cpu_args);
  run_cuda_on_host(scheduled, target, emulated_args);
  for (size_t i = num_inputs; i < params.size(); ++i) {
    expect_close(emulated[i], std::vector<double>(cpu[i].begin(), cpu[i].end()),
                 what + " output " + std::to_string(i - num_inputs), 1e-5);
  }
}

}  // namespace taskmap::testing
