#include "taskmap/schedules/auto_cuda.h"

#include <algorithm>
#include <unordered_map>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;

ir::Module auto_schedule_cuda(const Task& task, const CudaTarget& target) {
  (void)target;  // one thread per element fits every architecture
  std::unordered_map<const void*, Var> buffers;
  std::unordered_map<const void*, size_t> output_index;
  for (size_t k = 0; k < task.outputs().size(); ++k) {
    buffers[task.outputs()[k].get()] = task.output_params()[k];
    output_index[task.outputs()[k].get()] = k;
  }

  Module module{kernel_name(task.name()), {}};
  // Outputs in dependency order: a kernel that reads another output runs after its kernel.
  for (const Expr& c : collect_computes(task.outputs())) {
    auto found = output_index.find(c.get());
    if (found == output_index.end()) continue;  // inlined into its users, reductions too
    const size_t k = found->second;
    const auto* node = c.as<ComputeNode>();
    const std::vector<int64_t>& shape = node->type.shape();
    const int64_t numel = node->type.numel();
    const std::string name =
        kernel_name(task.name()) + (task.outputs().size() > 1 ? "_" + std::to_string(k) : "");
    lang::KernelBuilder kb(name);
    kb.params(task.params());
    kb.attr("task", task.name());
    kb.attr("schedule", "auto");
    const int64_t blocks = std::max<int64_t>(1, (numel + kBlockThreads - 1) / kBlockThreads);
    kb.attr("cuda.block_dim", std::to_string(kBlockThreads));
    kb.attr("cuda.grid_dim", std::to_string(blocks));
    const Var out = task.output_params()[k];
    const Expr value = inline_computes(node->value, buffers);
    auto emit = [&](const std::vector<Expr>& index) { emit_element(kb, *node, value, out, index); };
    if (numel > 0) {
      const Expr thread = cast(i64, call("thread_idx_x", {}, Type(i32)));
      const Expr block = cast(i64, call("block_idx_x", {}, Type(i32)));
      kb.let("w", block * int_imm(kBlockThreads) + thread, [&](const Var& w) {
        kb.if_then(w < int_imm(numel), [&] {
          if (shape.empty()) {
            emit({});
          } else {
            kb.for_mapping(TaskMapping::spatial(shape), w,
                           [&](const Index& index) { emit(index); });
          }
        });
      });
    }
    module.functions.push_back(kb.build());
  }
  return module;
}

}  // namespace taskmap::schedules
