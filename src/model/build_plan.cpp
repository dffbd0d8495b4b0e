#include "model/build_plan.h"

#include <unordered_map>
#include <unordered_set>

#include "model/memory_plan.h"
#include "taskmap/build/compiler.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/ir/functor.h"

namespace taskmap::model {

using runtime::Slot;

int64_t count_flops(const ir::Task& task) {
  int64_t flops = 0;
  std::unordered_set<const ir::ExprNode*> seen;
  for (const ir::Expr& c : ir::collect_computes(task.outputs())) {
    int64_t numel = shape_numel(c.type().shape());
    // The reductions of this compute only: loads of other computes are not entered.
    struct ReduceFinder : ir::IRVisitor {
      std::function<void(const ir::ReduceNode*)> on_reduce;
      void visit_Reduce(const ir::ReduceNode* op) override {
        on_reduce(op);
        ir::IRVisitor::visit_Reduce(op);
      }
      void visit_Load(const ir::LoadNode* op) override {
        if (!op->buffer.as<ir::ComputeNode>()) visit(op->buffer);
        for (const ir::Expr& i : op->indices) visit(i);
      }
    } finder;
    finder.on_reduce = [&](const ir::ReduceNode* r) {
      if (seen.insert(r).second) flops += 2 * numel * shape_numel(r->extents);
    };
    finder.visit(c.as<ir::ComputeNode>()->value);
  }
  return flops;
}

namespace {

class PlanBuilder {
 public:
  PlanBuilder(const graph::Graph& graph, const ModelOptions& options, bool build)
      : graph_(graph),
        options_(options),
        build_(build),
        exe_(std::make_shared<runtime::Executable>()) {}

  BuiltPlan run() {
    exe_->threads = options_.threads;
    for (size_t i = 0; i < graph_.inputs.size(); ++i) {
      const graph::Tensor& t = graph_.inputs[i];
      exe_->inputs.push_back(spec(*t));
      slots_[t.get()] = {Slot::Kind::input, static_cast<int64_t>(i)};
    }
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      const graph::Tensor& t = graph_.outputs[k];
      exe_->outputs.push_back(spec(*t));
      bool produced = t->producer != nullptr && !t->is_constant();
      if (produced && !slots_.count(t.get()))
        slots_[t.get()] = {Slot::Kind::output, static_cast<int64_t>(k)};
    }
    std::vector<ir::Function> kernels;
    std::vector<std::vector<const graph::TensorNode*>> kernel_args;
    for (size_t step = 0; step < graph_.ops.size(); ++step) {
      const graph::OperatorNode& op = *graph_.ops[step];
      if (try_alias(op, static_cast<int>(step))) continue;
      graph::LoweredOperator lowered = graph::lower_operator(op, graph_.source);
      report_.flops += count_flops(lowered.task);
      std::vector<const graph::TensorNode*> args;
      for (int i : lowered.used_inputs) args.push_back(use(op.inputs[i], static_cast<int>(step)));
      for (size_t k = 0; k < lowered.task.output_params().size(); ++k) {
        const graph::Tensor& out = op.outputs[k];
        const graph::TensorNode* node = out ? out.get() : scratch(lowered.task.output_params()[k]);
        define(node, static_cast<int>(step));
        args.push_back(node);
      }
      kernels.push_back(implement_cpu(lowered.task, options_.compile.target));
      kernel_args.push_back(args);
    }
    for (const graph::Tensor& t : graph_.outputs) use(t, static_cast<int>(graph_.ops.size()));
    place_arena_buffers();

    int64_t before = build::build_stats().compiler_invocations.load();
    std::vector<CompiledKernel> compiled;
    if (build_) compiled = compile_kernels(kernels, options_.compile);
    report_.kernels_built =
        static_cast<int>(build::build_stats().compiler_invocations.load() - before);
    for (size_t i = 0; i < compiled.size(); ++i) {
      runtime::KernelCall call;
      call.name = compiled[i].name();
      call.library = compiled[i].library();
      call.entry = call.library->entry(call.name);
      for (const graph::TensorNode* t : kernel_args[i]) call.args.push_back(slot_of(t));
      exe_->calls.push_back(std::move(call));
    }
    for (const graph::Tensor& t : graph_.outputs) exe_->output_sources.push_back(slot_of(t.get()));
    report_.operators = static_cast<int>(graph_.ops.size());
    report_.kernels = static_cast<int>(kernels.size());
    report_.arena_bytes = exe_->arena_bytes;
    for (const NDArray& c : exe_->constants)
      report_.constant_bytes += static_cast<int64_t>(c.nbytes());
    return {exe_, report_};
  }

 private:
  static runtime::TensorSpec spec(const graph::TensorNode& t) {
    return {t.name, t.dtype, graph::known_sizes(t.shape)};
  }

  // Views (Reshape, Squeeze, ...) share their input's memory unless they are graph outputs.
  bool try_alias(const graph::OperatorNode& op, int step) {
    const graph::OpDef* def = graph::find_op(op.type);
    if (!def || !def->is_view || op.outputs.empty() || !op.outputs[0] || op.inputs.empty())
      return false;
    const graph::TensorNode* out = op.outputs[0].get();
    if (slots_.count(out) || op.inputs[0] == nullptr) return false;
    for (size_t k = 1; k < op.outputs.size(); ++k)
      if (op.outputs[k]) return false;
    const graph::TensorNode* in = use(op.inputs[0], step);
    alias_[out] = root(in);
    return true;
  }

  const graph::TensorNode* root(const graph::TensorNode* t) const {
    auto it = alias_.find(t);
    return it == alias_.end() ? t : it->second;
  }

  const graph::TensorNode* use(const graph::Tensor& t, int step) {
    const graph::TensorNode* r = root(t.get());
    if (t->is_constant() && !slots_.count(r)) {
      slots_[r] = {Slot::Kind::constant, static_cast<int64_t>(exe_->constants.size())};
      exe_->constants.push_back(t->constant);
    }
    auto it = lifetimes_.find(r);
    if (it != lifetimes_.end()) it->second.last_step = std::max(it->second.last_step, step);
    return t.get();
  }

  void define(const graph::TensorNode* t, int step) {
    if (slots_.count(t)) return;  // graph outputs write to their own buffers
    int64_t bytes = shape_numel(graph::known_sizes(t->shape)) * t->dtype.bytes();
    lifetimes_[t] = {bytes, step, step};
    order_.push_back(t);
  }

  const graph::TensorNode* scratch(const ir::Var& param) {
    auto t = graph::make_tensor("scratch", param.dtype(), graph::to_shape(param.type().shape()));
    scratch_.push_back(t);
    return t.get();
  }

  void place_arena_buffers() {
    std::vector<BufferLifetime> buffers;
    for (const graph::TensorNode* t : order_) buffers.push_back(lifetimes_.at(t));
    MemoryPlan plan = plan_memory(buffers);
    for (size_t i = 0; i < order_.size(); ++i)
      slots_[order_[i]] = {Slot::Kind::arena, plan.offsets[i]};
    exe_->arena_bytes = plan.arena_bytes;
  }

  Slot slot_of(const graph::TensorNode* t) const {
    auto it = slots_.find(root(t));
    TM_ASSERT(it != slots_.end()) << "tensor '" << t->name << "' has no storage";
    return it->second;
  }

  const graph::Graph& graph_;
  const ModelOptions& options_;
  bool build_;
  std::shared_ptr<runtime::Executable> exe_;
  CompileReport report_;
  std::unordered_map<const graph::TensorNode*, Slot> slots_;
  std::unordered_map<const graph::TensorNode*, const graph::TensorNode*> alias_;
  std::unordered_map<const graph::TensorNode*, BufferLifetime> lifetimes_;
  std::vector<const graph::TensorNode*> order_;
  std::vector<graph::Tensor> scratch_;
};

}  // namespace

BuiltPlan build_plan(const graph::Graph& graph, const ModelOptions& options, bool build) {
  return PlanBuilder(graph, options, build).run();
}

}  // namespace taskmap::model
