#include "cuda_build/host_cuda_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "ops/ops_support.h"
#include "taskmap/build/compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/compile.h"
#include "taskmap/error.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/runtime/file_io.h"
#include "taskmap/runtime/ndarray.h"

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
  options.extra_flags = {"-std=c++20", "-pthread", "-O1", "-I" TASKMAP_CUDA_INCLUDE_DIR};
  const auto library = build::build_shared_objects({{scheduled.name + "_host", text}}, options)[0];
  // The workspace, poisoned: a kernel that reads what no kernel wrote sees NaN.
  std::vector<NDArray> workspace;
  std::vector<void*> arguments = buffers;
  for (const ir::Var& w : scheduled.workspace) {
    workspace.emplace_back(w.dtype(), w.type().shape());
    const std::vector<float> nan = poisoned(workspace.back().numel());
    for (int64_t j = 0; j < workspace.back().numel(); ++j) workspace.back().set_double(j, nan[j]);
    arguments.push_back(workspace.back().raw());
  }
  for (const ir::Function& f : scheduled.functions) {
    TM_ASSERT(f->params.size() == arguments.size())
        << f->name << " takes " << f->params.size() << " arguments, " << arguments.size()
        << " were given (with the workspace)";
    unsigned grid = static_cast<unsigned>(std::stoul(f->attrs.at("cuda.grid_dim")));
    unsigned block = static_cast<unsigned>(std::stoul(f->attrs.at("cuda.block_dim")));
    std::vector<void*> pointers = arguments;  // the kernel reads each parameter through a pointer
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
                                 const CudaTarget& target, const std::string& what, double rtol) {
  const std::vector<ir::Var> params = task.params();
  const size_t num_inputs = task.inputs().size();
  // Buffers of each parameter's dtype: inputs random (the same on both sides), outputs NaN.
  std::vector<NDArray> cpu, emulated;
  for (size_t i = 0; i < params.size(); ++i) {
    const ir::Type& type = params[i].type();
    NDArray data(type.dtype(), type.shape());
    const std::vector<float> values =
        i < num_inputs ? random_data(data.numel()) : poisoned(data.numel());
    for (int64_t j = 0; j < data.numel(); ++j) data.set_double(j, values[j]);
    cpu.push_back(data.clone());
    emulated.push_back(data);
  }
  std::vector<void*> cpu_args, emulated_args;
  for (NDArray& data : cpu) cpu_args.push_back(data.raw());
  for (NDArray& data : emulated) emulated_args.push_back(data.raw());
  compile_all_auto({task})[0](cpu_args);
  run_cuda_on_host(scheduled, target, emulated_args);
  for (size_t i = num_inputs; i < params.size(); ++i) {
    std::vector<float> actual;
    std::vector<double> expected;
    for (int64_t j = 0; j < cpu[i].numel(); ++j) {
      actual.push_back(static_cast<float>(emulated[i].get_double(j)));
      expected.push_back(cpu[i].get_double(j));
    }
    expect_close(actual, expected, what + " output " + std::to_string(i - num_inputs), rtol);
  }
}

std::vector<std::string> variable_register_indices(const std::string& source,
                                                   const std::vector<std::string>& arrays) {
  std::vector<std::string> out;
  for (const std::string& name : arrays) {
    const std::regex access("\\b" + name + "\\[([^\\]]*)\\]");
    for (auto it = std::sregex_iterator(source.begin(), source.end(), access);
         it != std::sregex_iterator(); ++it) {
      const std::string index = (*it)[1];
      if (index.find_first_not_of("0123456789") != std::string::npos) out.push_back(it->str());
    }
  }
  return out;
}

void expect_cubins_without_warnings(const std::vector<build::CudaCompileJob>& jobs) {
  for (const char* arch : {"cuda:sm_80", "cuda:sm_90"}) {
    build::CudaBuildOptions options;
    options.target = CudaTarget::parse(arch);
    const std::vector<build::Cubin> cubins = build::build_cubins(jobs, options);
    ASSERT_EQ(cubins.size(), jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      EXPECT_EQ(cubins[i].warnings, "") << jobs[i].name << " for " << arch;
      EXPECT_GT(std::filesystem::file_size(cubins[i].path), 0u) << jobs[i].name;
    }
  }
}

}  // namespace taskmap::testing
