// `taskmap export NAME -o FILE.onnx [--seed S]` and `taskmap export --list`: writes a bundled
// model (built from seeded random weights) as an ONNX file, opset 17.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/models.h"

namespace taskmap::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a bundled model as an ONNX file (opset 17)");
  cmd->footer(
      "Weights are seeded random values, scaled so that activations stay O(1).\n"
      "Example: taskmap export resnet50 -o resnet50.onnx --seed 1");
  auto name = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(0);
  auto list = std::make_shared<bool>(false);
  auto default_name = std::make_shared<bool>(false);
  cmd->add_option("model", *name, "Bundled model name (see --list)");
  cmd->add_option("-o,--output", *path, "ONNX file to write");
  cmd->add_option("--seed", *seed, "Seed of the random weights (default 0)");
  cmd->add_flag("--list", *list, "List the bundled models and exit");
  cmd->add_flag("--default-name", *default_name, "Print the default model's name and exit");
  cmd->callback(
      [name, path, seed, list, default_name] {
        if (*default_name) {
          std::printf("%s\n", models::default_model_name().c_str());
          return;
        }
        if (*list) {
          std::string fallback = models::default_model_name();
          for (const std::string& n : models::model_names())
            std::printf("%s%s\n", n.c_str(), n == fallback ? "  (default)" : "");
          return;
        }
        TM_USER_CHECK(!name->empty())
            << "export: name a bundled model (taskmap export --list shows them)";
        TM_USER_CHECK(!path->empty()) << "export: give the output file with -o FILE.onnx";
        auto start = std::chrono::steady_clock::now();
        graph::Graph g = models::build_model(*name, *seed);
        onnx::save_model(g, *path, 17);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("exported  %s (seed %llu, %zu operators) to %s in %.2f s\n", name->c_str(),
                    static_cast<unsigned long long>(*seed), g.ops.size(), path->c_str(), s);
      });
}

}  // namespace taskmap::cli
