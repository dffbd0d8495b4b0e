// `taskmap inspect MODEL [--dim NAME=VALUE]... [--graph]`: what a model holds and what compiling
// it would give, without building kernels.
#include <cstdio>
#include <map>

#include "commands.h"
#include "model_args.h"
#include "taskmap/error.h"
#include "taskmap/graph/op_registry.h"

namespace taskmap::cli {
namespace {

void count_ops(const graph::Graph& g, std::map<std::string, int>& histogram) {
  for (const graph::Operator& op : g.ops) {
    ++histogram[(op->domain.empty() ? "" : op->domain + ".") + op->type];
    for (const auto& [name, value] : op->attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<graph::Graph>>(&value))
        count_ops(**sub, histogram);
  }
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect", "Show a model's inputs, outputs, operators, FLOPs and memory plan");
  cmd->footer("Example: taskmap inspect model.onnx --dim batch=1");
  auto args = std::make_shared<ModelArgs>();
  auto show_graph = std::make_shared<bool>(false);
  auto show_kernels = std::make_shared<bool>(false);
  args->add_to(cmd, /*with_inputs=*/false);
  cmd->add_flag("--graph", *show_graph, "Also print the whole graph");
  cmd->add_flag("--kernels", *show_kernels,
                "Also list the kernels: the operators fused into each, its schedule and problem");
  cmd->callback([args, show_graph, show_kernels] {
    Model model = args->load();
    const graph::Graph& g = model.graph();
    std::printf("model     %s\n", args->path.c_str());
    for (const graph::Tensor& t : g.inputs)
      std::printf("input     %s: %s\n", t->name.c_str(), t->type_str().c_str());
    for (const graph::Tensor& t : g.outputs)
      std::printf("output    %s: %s\n", t->name.c_str(),
                  t->type_known ? t->type_str().c_str() : "(inferred)");
    std::map<std::string, int> histogram;
    count_ops(g, histogram);
    std::printf("operators %zu\n", g.ops.size());
    std::vector<std::string> unsupported;
    for (const auto& [type, count] : histogram) {
      const size_t dot = type.rfind('.');
      bool known = dot == std::string::npos
                       ? graph::find_op(type) != nullptr
                       : graph::find_op(type.substr(dot + 1), type.substr(0, dot)) != nullptr;
      known |= type == "If";
      if (!known) unsupported.push_back(type);
      std::printf("  %-28s %d%s\n", type.c_str(), count, known ? "" : "  (unsupported)");
    }
    if (*show_graph) std::printf("%s", graph::to_string(g).c_str());
    if (!unsupported.empty()) {
      std::string list;
      for (const std::string& u : unsupported) list += (list.empty() ? "" : ", ") + u;
      std::printf("unsupported operators: %s\n", list.c_str());
      return;
    }
    try {
      CompileReport report = model.plan_only(model.default_bindings());
      if (model.options().precision != ir::f32)
        std::printf("precision %s (the float operators' values; inputs and outputs f32)\n",
                    model.options().precision.name().c_str());
      std::printf("plan      %d operators after constant folding, %d kernels\n", report.operators,
                  report.kernels);
      std::printf("flops     %.3f GFLOP per run\n", static_cast<double>(report.flops) / 1e9);
      std::printf("memory    peak %s of intermediates (arena), %s of constants\n",
                  mib(report.arena_bytes).c_str(), mib(report.constant_bytes).c_str());
      int fused = 0;
      for (const std::string& label : report.kernel_labels)
        fused += label.find(" + ") != std::string::npos || label.find(" -> ") != std::string::npos;
      std::printf("fusion    %d of %d kernels run more than one operator%s\n", fused,
                  report.kernels, args->no_fuse ? " (--no-fuse)" : "");
      if (*show_kernels) {
        for (size_t i = 0; i < report.kernel_labels.size(); ++i)
          std::printf("  %4zu  %s\n", i, report.kernel_labels[i].c_str());
      }
    } catch (const graph::ValueNeeded& needed) {
      std::printf("plan      depends on input data (%s)\n", needed.what());
    }
  });
}

}  // namespace taskmap::cli
