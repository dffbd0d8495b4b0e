#include "taskmap/schedules/auto_cuda.h"

#include <algorithm>
#include <unordered_map>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

bool is_half(DType dtype) {
  return dtype == f16 || dtype == bf16;
}

// Elements of an output a thread writes: as many as fill 16 bytes, halved until they divide the
// innermost extent. 1 where the value reduces (each element's reduction is a thread's work), or
// where it computes on f16 / bf16 values: their conversions to float (inline PTX) between a
// thread's elements keep nvcc from merging the loads and stores, and unmerged, a thread's
// 2-byte elements would spread a warp's accesses over more sectors. Moving them (a transpose, a
// concat, a gather of f16) merges like any other type.
int64_t elements_per_thread(const ComputeNode& out, const Expr& value) {
  const std::vector<int64_t>& shape = out.type.shape();
  if (shape.empty()) return 1;
  bool reduces = false, half_math = false;
  post_order_visit(value, [&](const Expr& e) {
    reduces |= e.kind() == NodeKind::Reduce;
    if (const auto* cast = e.as<CastNode>()) half_math |= is_half(cast->value.dtype());
    // (Tensors, their loads and choices between them move values; the rest computes.)
    const bool moves =
        e.kind() == NodeKind::Var || e.kind() == NodeKind::Load || e.kind() == NodeKind::Select;
    half_math |= is_half(e.dtype()) && !moves;
  });
  if (reduces || half_math) return 1;
  int64_t v = std::max<int64_t>(1, 16 / out.type.dtype().bytes());
  while (v > 1 && shape.back() % v != 0) v /= 2;
  return v;
}

}  // namespace

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
    const Var out = task.output_params()[k];
    const Expr value = inline_computes(node->value, buffers);
    // A thread's elements are consecutive along the innermost axis, so that its loads and
    // stores of them merge into vector ones (the kernel's tensors are 16-byte aligned).
    const int64_t per_thread = elements_per_thread(*node, value);
    std::vector<int64_t> shape = node->type.shape();
    if (!shape.empty()) shape.back() /= per_thread;
    const int64_t numel = node->type.numel() / per_thread;
    const std::string name =
        kernel_name(task.name()) + (task.outputs().size() > 1 ? "_" + std::to_string(k) : "");
    lang::KernelBuilder kb(name);
    kb.params(task.params());
    kb.attr("task", task.name());
    kb.attr("schedule", per_thread > 1
                            ? "auto (" + std::to_string(per_thread) + " elements a thread)"
                            : std::string("auto"));
    const int64_t blocks = std::max<int64_t>(1, (numel + kBlockThreads - 1) / kBlockThreads);
    kb.attr("cuda.block_dim", std::to_string(kBlockThreads));
    kb.attr("cuda.grid_dim", std::to_string(blocks));
    auto emit = [&](std::vector<Expr> index) {
      if (per_thread == 1) return emit_element(kb, *node, value, out, index);
      const Expr first = index.back() * per_thread;
      for (int64_t e = 0; e < per_thread; ++e) {
        index.back() = first + e;
        emit_element(kb, *node, value, out, index);
      }
    };
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
