// `taskmap run MODEL [--input FILE]... [--output-dir DIR] [--format pb|npy] [--threads N]
//  [--dim NAME=VALUE]...`: compiles the model, runs it once and writes the outputs.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "model_args.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/npy.h"

namespace taskmap::cli {
namespace {

namespace fs = std::filesystem;

// Fails before compiling when outputs could not be written.
void check_output_dir(const std::string& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) {
    fs::create_directories(dir, error);
    TM_USER_CHECK(!error) << "cannot create output directory '" << dir << "': " << error.message();
  }
  TM_USER_CHECK(fs::is_directory(dir, error))
      << "output directory '" << dir << "' is not a directory";
  TM_USER_CHECK(::access(dir.c_str(), W_OK) == 0)
      << "output directory '" << dir << "' is not writable";
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Compile an ONNX model and run it once");
  cmd->footer(
      "Inputs are read in graph-input order; without --input, seeded random inputs of the "
      "declared\n"
      "shapes are used. Outputs go to DIR/output_<k>.pb (or .npy) in graph-output order.\n"
      "Example: taskmap run model.onnx --input x.npy --output-dir out --format npy");
  auto args = std::make_shared<ModelArgs>();
  auto output_dir = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("pb");
  args->add_to(cmd, /*with_inputs=*/true);
  cmd->add_option("--output-dir", *output_dir, "Write the outputs to this folder");
  cmd->add_option("--format", *format, "Output file format")->check(CLI::IsMember({"pb", "npy"}));
  cmd->callback([args, output_dir, format] {
    if (!output_dir->empty()) check_output_dir(*output_dir);
    Model model = args->load();
    std::vector<NDArray> inputs = args->make_inputs(model);
    CompileReport report = model.compile(graph::bindings_of(inputs));
    print_warnings(report);
    std::printf("compiled  %d operators into %d kernels in %.2f s (%d built, %d from the cache)\n",
                report.operators, report.kernels, report.seconds, report.kernels_built,
                report.kernels - report.kernels_built);
    auto start = std::chrono::steady_clock::now();
    std::vector<NDArray> outputs = model.run(inputs);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("ran       in %.3f ms\n", ms);
    const auto& declared = model.graph().outputs;
    for (size_t k = 0; k < outputs.size(); ++k) {
      std::printf("output %zu  '%s' %s\n", k, declared[k]->name.c_str(),
                  summarize(outputs[k]).c_str());
      if (output_dir->empty()) continue;
      std::string path =
          (fs::path(*output_dir) / ("output_" + std::to_string(k) + "." + *format)).string();
      if (*format == "npy")
        save_npy(outputs[k], path);
      else
        onnx::save_tensor(outputs[k], path, declared[k]->name);
    }
    if (!output_dir->empty())
      std::printf("wrote     %zu outputs to %s\n", outputs.size(), output_dir->c_str());
  });
}

}  // namespace taskmap::cli
