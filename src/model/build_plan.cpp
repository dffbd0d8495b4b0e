#include "model/build_plan.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "model/fusion.h"
#include "model/memory_plan.h"
#include "taskmap/build/compiler.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/ir/functor.h"
#include "taskmap/schedules/gemm_cpu.h"
#include "taskmap/schedules/winograd_cpu.h"

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

// "Conv 'layer1.conv1' (gemm_cpu ...)": the operator and how its kernel was scheduled.
std::string label_of(const graph::OperatorNode& op, const ir::Function& kernel, int64_t flops) {
  std::string label = op.type + " '" + op.name + "'";
  for (const char* key : {"schedule", "problem"}) {
    auto it = kernel->attrs.find(key);
    if (it != kernel->attrs.end()) label += " [" + it->second + "]";
  }
  if (flops > 0) label += " " + std::to_string(flops / 1000000) + " MFLOP";
  return label;
}

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
    const size_t n = graph_.ops.size();
    std::vector<std::optional<graph::LoweredOperator>> lowered(n);
    flops_.assign(n, 0);
    for (size_t step = 0; step < n; ++step) {
      const graph::OperatorNode& op = *graph_.ops[step];
      ops_.push_back(&op);
      if (try_alias(op, static_cast<int>(step))) continue;
      lowered[step] = graph::lower_operator(op, graph_.source);
      flops_[step] = count_flops(lowered[step]->task);
      report_.flops += flops_[step];
    }
    std::vector<FusionGroup> groups;
    if (options_.fuse) {
      groups = partition_fusion(graph_, lowered);
    } else {
      for (size_t i = 0; i < n; ++i)
        if (lowered[i]) groups.push_back({static_cast<int>(i), {}, {}});
    }
    for (const FusionGroup& group : groups) emit_group(group, lowered);
    for (const graph::Tensor& t : graph_.outputs) use(t, static_cast<int>(graph_.ops.size()));
    place_arena_buffers();

    // Weight packing builds kernels of its own, counted apart from the plan's.
    if (build_) pack_constants();
    int64_t before = build::build_stats().compiler_invocations.load();
    for (const graph::Tensor& t : graph_.outputs) exe_->output_sources.push_back(slot_of(t.get()));
    std::shared_ptr<runtime::CudaExecutable> cuda_exe;
    if (build_) {
      CompileOptions compile = options_.compile;
      if (options_.progress) compile.progress = progress_printer("kernels");
      if (options_.cuda) {
        cuda_exe = cuda_executable(compile_cuda_kernels(kernels_, *options_.cuda, compile));
      } else {
        add_calls(compile_kernels(kernels_, compile));
      }
    }
    report_.kernels_built =
        static_cast<int>(build::build_stats().compiler_invocations.load() - before);
    report_.operators = static_cast<int>(graph_.ops.size());
    report_.kernels = static_cast<int>(kernels_.size());
    report_.kernel_labels = labels_;
    report_.arena_bytes = exe_->arena_bytes;
    for (const NDArray& c : exe_->constants)
      report_.constant_bytes += static_cast<int64_t>(c.nbytes());
    if (!build_) {  // the packed weights are made only when building; count what they will take
      for (const PendingPack& p : pending_packs_)
        report_.constant_bytes += shape_numel(p.task.output_params()[0].type().shape()) * 4;
    }
    if (options_.cuda) return {nullptr, cuda_exe, report_};
    return {exe_, nullptr, report_};
  }

 private:
  void add_calls(const std::vector<CompiledKernel>& compiled) {
    for (size_t i = 0; i < compiled.size(); ++i) {
      runtime::KernelCall call;
      call.name = compiled[i].name();
      call.label = labels_[i];
      call.library = compiled[i].library();
      call.entry = call.library->entry(call.name);
      for (const graph::TensorNode* t : kernel_args_[i]) call.args.push_back(slot_of(t));
      exe_->calls.push_back(std::move(call));
    }
  }

  // The CPU plan's description (slots, constants, arena) with CUDA kernels.
  std::shared_ptr<runtime::CudaExecutable> cuda_executable(
      const std::vector<CompiledCudaKernel>& compiled) {
    auto cuda = std::make_shared<runtime::CudaExecutable>();
    cuda->inputs = exe_->inputs;
    cuda->outputs = exe_->outputs;
    cuda->constants = exe_->constants;
    cuda->output_sources = exe_->output_sources;
    cuda->arena_bytes = exe_->arena_bytes;
    cuda->device = options_.cuda_device;
    for (size_t i = 0; i < compiled.size(); ++i) {
      runtime::CudaKernelCall call;
      call.name = compiled[i].name;
      call.label = labels_[i];
      call.cubin_path = compiled[i].cubin_path;
      call.symbol = compiled[i].symbol;
      call.assertion_messages = compiled[i].assertion_messages;
      call.grid = compiled[i].grid;
      call.block = compiled[i].block;
      call.shared_bytes = compiled[i].shared_bytes;
      if (!compiled[i].warnings.empty())
        report_.warnings.push_back(compiled[i].name + ": " + compiled[i].warnings);
      for (const graph::TensorNode* t : kernel_args_[i]) call.args.push_back(slot_of(t));
      cuda->calls.push_back(std::move(call));
    }
    return cuda;
  }

  // The kernel(s) of one fusion group, run at the position of its last member: one fused kernel,
  // or one per member (in graph order) when the head's kernel cannot be rewritten.
  void emit_group(const FusionGroup& group,
                  const std::vector<std::optional<graph::LoweredOperator>>& lowered) {
    const int step = group.last();
    const std::vector<const graph::OperatorNode*>& ops = ops_;
    written_.clear();
    int64_t flops = 0;
    for (int i : members_of(group)) {
      flops += flops_[i];
      for (const graph::Tensor& t : ops[i]->outputs)
        if (t) written_.insert(t.get());
    }
    // An operator's kernels (one, or on CUDA several in launch order that share parameters).
    auto member_kernels = [&](int i, std::vector<KernelArg>& args) {
      const graph::OperatorNode& op = *ops[i];
      std::vector<const graph::TensorNode*> tensors;
      for (int k : lowered[i]->used_inputs) tensors.push_back(op.inputs[k].get());
      for (size_t k = 0; k < lowered[i]->task.output_params().size(); ++k) {
        const graph::Tensor& out = op.outputs[k];
        tensors.push_back(out ? out.get() : scratch(lowered[i]->task.output_params()[k]));
      }
      std::vector<ir::Function> fs = implement(op, *lowered[i], tensors);
      for (size_t k = 0; k < tensors.size(); ++k) args.push_back({fs[0]->params[k], tensors[k]});
      return fs;
    };
    // Operator i's kernels, each labelled by its own schedule (a split-k sum is not the GEMM),
    // the flops on the first; `fused` names the prologues and epilogues they took.
    auto add_kernels = [&](int i, const std::vector<ir::Function>& fs,
                           const std::vector<KernelArg>& args, int64_t flops,
                           const FusionGroup* fused) {
      for (size_t k = 0; k < fs.size(); ++k) {
        std::string label = label_of(*ops[i], fs[k], k == 0 ? flops : 0);
        if (fused != nullptr) {
          for (int p : fused->prologues)
            label = ops[p]->type + " '" + ops[p]->name + "' -> " + label;
          for (int e : fused->epilogues) label += " + " + ops[e]->type + " '" + ops[e]->name + "'";
        }
        add_kernel(fs[k], args, step, label);
      }
    };
    auto add_member = [&](int i) {
      std::vector<KernelArg> args;
      const std::vector<ir::Function> fs = member_kernels(i, args);
      add_kernels(i, fs, args, flops_[i], nullptr);
    };
    std::vector<KernelArg> head_args;
    std::vector<ir::Function> heads = member_kernels(group.head, head_args);
    const bool alone = group.prologues.empty() && group.epilogues.empty();
    std::optional<FusedKernels> fused;
    FusionGroup kept = group;
    if (!alone) fused = fuse_kernels(group, ops, lowered, heads, head_args);
    // A kernel that reads a prologue's tensor other than element by element (a template's
    // masked vector loads) may still take the epilogues: the prologues then run alone first.
    if (!fused && !group.prologues.empty() && !group.epilogues.empty()) {
      kept.prologues.clear();
      fused = fuse_kernels(kept, ops, lowered, heads, head_args);
    }
    if (fused || alone) {
      if (kept.prologues.size() != group.prologues.size()) {
        for (int p : group.prologues) add_member(p);
      }
      add_kernels(group.head, fused ? fused->functions : heads, fused ? fused->args : head_args,
                  flops, &kept);
      return;
    }
    // Fallback: every member alone, in graph order.
    for (int i : members_of(group)) {
      if (i != group.head) {
        add_member(i);
        continue;
      }
      add_kernels(i, heads, head_args, flops_[i], nullptr);
    }
  }

  static std::vector<int> members_of(const FusionGroup& group) {
    std::vector<int> members = group.prologues;
    members.push_back(group.head);
    members.insert(members.end(), group.epilogues.begin(), group.epilogues.end());
    return members;
  }

  // Appends a kernel whose arguments are live at `step`: inputs are read then, the tensors it
  // writes are defined then.
  void add_kernel(const ir::Function& f, const std::vector<KernelArg>& args, int step,
                  std::string label) {
    std::vector<const graph::TensorNode*> tensors;
    // Parameters the body never reads (a weight the kernel takes pre-packed) get no storage, so
    // a weight used only packed is not kept twice.
    std::unordered_set<const ir::ExprNode*> read;
    for (const ir::Var& v : ir::free_vars(f->body)) read.insert(v.get());
    for (const KernelArg& a : args) {
      if (!read.count(a.param.get()) && !written_.count(a.tensor)) {
        tensors.push_back(nullptr);
        continue;
      }
      if (written_.count(a.tensor)) {
        define(a.tensor, step);
      } else {
        use_node(a.tensor, step);
      }
      tensors.push_back(a.tensor);
    }
    kernels_.push_back(f);
    kernel_args_.push_back(std::move(tensors));
    labels_.push_back(std::move(label));
  }

  // The kernels of one operator: on the CPU one, on CUDA the template's or auto-scheduler's
  // module (its kernels share the task's parameters, then its workspace, given scratch tensors
  // of this step).
  std::vector<ir::Function> implement(const graph::OperatorNode& op,
                                      const graph::LoweredOperator& lowered,
                                      std::vector<const graph::TensorNode*>& args) {
    if (options_.cuda) {
      ir::Module module = implement_cuda(lowered.task, *options_.cuda, {.tf32 = options_.tf32});
      TM_ASSERT(!module.functions.empty())
          << "no CUDA kernel for " << op.type << " '" << op.name << "'";
      // The kernels are bound to tensors through the first one's parameters.
      const std::vector<ir::Var>& first = module.functions[0]->params;
      for (const ir::Function& f : module.functions) {
        bool same = f->params.size() == first.size();
        for (size_t k = 0; same && k < first.size(); ++k) same = f->params[k].same_as(first[k]);
        TM_ASSERT(same) << "the CUDA kernels of " << op.type << " '" << op.name
                        << "' differ in parameters";
      }
      for (const ir::Var& w : module.workspace) args.push_back(scratch(w));
      return module.functions;
    }
    return {implement_cpu_kernel(op, lowered, args)};
  }

  // A GEMM whose A or B factor reads only constants (weights) gets that operand packed now,
  // once, instead of by every call: the packed tensor becomes a constant (computed by
  // pack_constants) and an extra argument.
  ir::Function implement_cpu_kernel(const graph::OperatorNode& op,
                                    const graph::LoweredOperator& lowered,
                                    std::vector<const graph::TensorNode*>& args) {
    const CpuTarget& target = options_.compile.target;
    std::vector<bool> constant;
    for (int i : lowered.used_inputs)
      constant.push_back(op.inputs[i] && op.inputs[i]->is_constant());
    // A Winograd transform is a GEMM by the letter (its matrix the constant factor) but a
    // dedicated template does it in a few adds per value.
    if (schedules::plan_winograd(lowered.task, target)) return implement_cpu(lowered.task, target);
    std::optional<schedules::GemmPlan> plan = schedules::plan_gemm(lowered.task, target, constant);
    if (!plan) return implement_cpu(lowered.task, target);
    std::vector<const graph::TensorNode*> packed;
    for (int side : {0, 1}) {
      if (!schedules::gemm_factor_constant(lowered.task, *plan, side, constant)) continue;
      std::vector<NDArray> values;
      for (int i : schedules::gemm_factor_inputs(lowered.task, *plan, side))
        values.push_back(op.inputs[lowered.used_inputs[i]]->constant);
      (side == 0 ? plan->a_packed : plan->b_packed) = true;
      ir::Task pack = schedules::gemm_pack_task(lowered.task, *plan, side);
      auto node = graph::make_tensor(op.name + (side == 0 ? ".a_packed" : ".b_packed"), ir::f32,
                                     graph::to_shape(pack.outputs()[0].type().shape()));
      pending_packs_.push_back({std::move(pack), std::move(values), node.get()});
      scratch_.push_back(node);
      packed.push_back(node.get());
    }
    args.insert(args.end(), packed.begin(), packed.end());
    return schedules::gemm_cpu(lowered.task, *plan);
  }

  // Builds the packing kernels in one batch, runs them on the weights and adds their outputs
  // to the constants.
  void pack_constants() {
    std::vector<ir::Function> kernels;
    for (const PendingPack& p : pending_packs_)
      kernels.push_back(implement_cpu(p.task, options_.compile.target));
    CompileOptions compile = options_.compile;
    if (options_.progress) compile.progress = progress_printer("weight packing kernels");
    std::vector<CompiledKernel> compiled = compile_kernels(kernels, compile);
    for (size_t i = 0; i < compiled.size(); ++i) {
      const PendingPack& p = pending_packs_[i];
      NDArray packed(ir::f32, p.task.output_params()[0].type().shape());
      std::vector<void*> kernel_args;
      for (const NDArray& v : p.inputs) kernel_args.push_back(const_cast<void*>(v.raw()));
      kernel_args.push_back(packed.raw());
      compiled[i](kernel_args);
      slots_[p.node] = {Slot::Kind::constant, static_cast<int64_t>(exe_->constants.size())};
      exe_->constants.push_back(std::move(packed));
    }
  }

  // "compiling kernels  12/40": rewritten in place on a terminal, else a line at most every
  // few seconds and at the end.
  static std::function<void(size_t, size_t)> progress_printer(std::string what) {
    const bool terminal = isatty(fileno(stderr)) != 0;
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [what = std::move(what), terminal, last](size_t done, size_t total) {
      auto now = std::chrono::steady_clock::now();
      if (!terminal && done != total && now - *last < std::chrono::seconds(5)) return;
      *last = now;
      std::fprintf(stderr, "%scompiling %s %3zu/%zu%s", terminal ? "\r" : "", what.c_str(), done,
                   total, terminal && done != total ? "" : "\n");
      std::fflush(stderr);
    };
  }

  static runtime::TensorSpec spec(const graph::TensorNode& t) {
    return {t.name, t.dtype, graph::known_sizes(t.shape)};
  }

  // Views (Reshape, Squeeze, ...) share their input's memory unless they are graph outputs.
  bool try_alias(const graph::OperatorNode& op, int step) {
    const graph::OpDef* def = graph::find_op(op.type, op.domain);
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

  const graph::TensorNode* use(const graph::Tensor& t, int step) { return use_node(t.get(), step); }

  const graph::TensorNode* use_node(const graph::TensorNode* t, int step) {
    const graph::TensorNode* r = root(t);
    if (t->is_constant() && !slots_.count(r)) {
      slots_[r] = {Slot::Kind::constant, static_cast<int64_t>(exe_->constants.size())};
      exe_->constants.push_back(t->constant);
    }
    auto it = lifetimes_.find(r);
    if (it != lifetimes_.end()) it->second.last_step = std::max(it->second.last_step, step);
    return t;
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
    written_.insert(t.get());
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
    if (t == nullptr) return {Slot::Kind::unused, 0};
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
  struct PendingPack {
    ir::Task task;
    std::vector<NDArray> inputs;  // the constants the packed factor reads
    const graph::TensorNode* node;
  };
  std::vector<PendingPack> pending_packs_;
  std::vector<const graph::OperatorNode*> ops_;           // graph_.ops, as fusion indexes them
  std::vector<int64_t> flops_;                            // per operator
  std::unordered_set<const graph::TensorNode*> written_;  // what the group being emitted writes
  std::vector<ir::Function> kernels_;
  std::vector<std::vector<const graph::TensorNode*>> kernel_args_;
  std::vector<std::string> labels_;
};

}  // namespace

BuiltPlan build_plan(const graph::Graph& graph, const ModelOptions& options, bool build) {
  return PlanBuilder(graph, options, build).run();
}

}  // namespace taskmap::model
