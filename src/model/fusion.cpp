#include "model/fusion.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "taskmap/ir/equality.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::model {

using graph::TensorNode;

namespace {

// Loads of the task's intermediate computes replaced by their definitions, so that an
// operator's output is one expression over its inputs.
class ComputeInliner : public ir::IRMutator {
 protected:
  ir::Expr mutate_Load(const ir::LoadNode* op, const ir::Expr& self) override {
    const auto* c = op->buffer.as<ir::ComputeNode>();
    if (c == nullptr) return ir::IRMutator::mutate_Load(op, self);
    bool changed = false;
    std::vector<ir::Expr> index = mutate_all(op->indices, &changed);
    std::vector<std::pair<ir::Var, ir::Expr>> map;
    for (size_t d = 0; d < c->axes.size(); ++d) map.emplace_back(c->axes[d], index[d]);
    return mutate(ir::substitute(c->value, map));
  }
};

// An injective operator's output as axes and one expression over the task's inputs.
struct Definition {
  std::vector<ir::Var> axes;
  ir::Expr value;
};

Definition definition(const ir::Task& task) {
  const auto* c = task.outputs()[0].as<ir::ComputeNode>();
  return {c->axes, ComputeInliner().mutate(c->value)};
}

// The task input reading graph tensor `t`, or nothing.
ir::Var input_var(const graph::OperatorNode& op, const graph::LoweredOperator& lowered,
                  const TensorNode* t) {
  for (size_t i = 0; i < lowered.used_inputs.size(); ++i)
    if (op.inputs[lowered.used_inputs[i]].get() == t) return lowered.task.inputs()[i];
  return {};
}

// True if `value` reads `buffer` at least once and only at exactly `axes` (an index 0 counts
// as the axis where the dim has extent 1: that is how broadcasting operators index).
bool reads_only_at(const ir::Expr& value, const ir::Var& buffer, const std::vector<ir::Var>& axes) {
  const std::vector<int64_t>& shape = buffer.type().shape();
  bool seen = false, other = false;
  ir::post_order_visit(value, [&](const ir::Expr& e) {
    const auto* load = e.as<ir::LoadNode>();
    if (load == nullptr || !load->buffer.same_as(buffer)) return;
    seen = true;
    if (load->indices.size() != axes.size()) {
      other = true;
      return;
    }
    for (size_t d = 0; d < axes.size(); ++d) {
      const auto* imm = load->indices[d].as<ir::IntImmNode>();
      bool unit = shape[d] == 1 && imm != nullptr && imm->value == 0;
      if (!unit && !ir::struct_equal(load->indices[d], axes[d])) other = true;
    }
  });
  return seen && !other;
}

// The rewrite of the head's kernel (see fusion.h).
class FusionRewriter : public ir::IRMutator {
 public:
  struct Prologue {
    ir::Var param;  // the head kernel's parameter for the prologue's output
    Definition def;
  };
  struct Epilogue {
    ir::Var reads;  // the epilogue task's input for the previous tensor of the chain
    Definition def;
  };

  FusionRewriter(std::vector<Prologue> prologues, ir::Var head_out, std::vector<Epilogue> epilogues,
                 ir::Var group_out)
      : prologues_(std::move(prologues)),
        head_out_(std::move(head_out)),
        epilogues_(std::move(epilogues)),
        group_out_(std::move(group_out)) {}

  bool failed() const { return failed_; }

 protected:
  ir::Expr mutate_Var(const ir::VarNode* op, const ir::Expr& self) override {
    // Any use of a fused tensor that is not an element load or store (an address, a vector
    // load, an argument) defeats the rewrite.
    if (find_prologue(op) != nullptr || (head_out_.defined() && op == head_out_.get()))
      failed_ = true;
    return self;
  }

  ir::Expr mutate_Load(const ir::LoadNode* op, const ir::Expr& self) override {
    const Prologue* p = find_prologue(op->buffer.get());
    if (p == nullptr) return ir::IRMutator::mutate_Load(op, self);
    bool changed = false;
    std::vector<ir::Expr> index = mutate_all(op->indices, &changed);
    std::vector<std::pair<ir::Var, ir::Expr>> map;
    for (size_t d = 0; d < p->def.axes.size(); ++d) map.emplace_back(p->def.axes[d], index[d]);
    return ir::substitute(p->def.value, map);
  }

  // A template's prefetch of its output (a hint ahead of the writes) becomes one of the group's
  // output and of each tensor of the output's shape that an epilogue reads at the same element
  // (a residual): the epilogue reads those lines next to the ones it writes.
  ir::Stmt mutate_Evaluate(const ir::EvaluateNode* op, const ir::Stmt& self) override {
    const auto* call = op->value.as<ir::CallNode>();
    const auto* at = call != nullptr && call->callee->name == "prefetch_write"
                         ? call->args.at(0).as<ir::AddressNode>()
                         : nullptr;
    if (at == nullptr || !head_out_.defined() || !at->buffer.same_as(head_out_))
      return ir::IRMutator::mutate_Evaluate(op, self);
    bool changed = false;
    std::vector<ir::Expr> index = mutate_all(at->indices, &changed);
    std::vector<ir::Stmt> hints = {
        ir::evaluate(ir::call("prefetch_write", {ir::address(group_out_, index)}))};
    const std::vector<int64_t>& shape = group_out_.type().shape();
    for (const Epilogue& e : epilogues_) {
      std::vector<std::pair<ir::Var, ir::Expr>> map;
      for (size_t d = 0; d < e.def.axes.size(); ++d) map.emplace_back(e.def.axes[d], index[d]);
      ir::post_order_visit(ir::substitute(e.def.value, map), [&](const ir::Expr& x) {
        const auto* load = x.as<ir::LoadNode>();
        if (load != nullptr && !load->buffer.same_as(e.reads) &&
            load->buffer.type().shape() == shape)
          hints.push_back(
              ir::evaluate(ir::call("prefetch_read", {ir::address(load->buffer, load->indices)})));
      });
    }
    return ir::seq(std::move(hints));
  }

  ir::Stmt mutate_Store(const ir::StoreNode* op, const ir::Stmt& self) override {
    if (!head_out_.defined() || !op->buffer.same_as(head_out_))
      return ir::IRMutator::mutate_Store(op, self);
    bool changed = false;
    std::vector<ir::Expr> index = mutate_all(op->indices, &changed);
    // let v0 = value; let v1 = epilogue1(v0); ...; group_out[index] = v_last
    std::vector<std::pair<ir::Var, ir::Expr>> lets;
    ir::Var current = ir::var("fused", op->value.type());
    lets.emplace_back(current, mutate(op->value));
    for (const Epilogue& e : epilogues_) {
      std::vector<std::pair<ir::Var, ir::Expr>> map;
      for (size_t d = 0; d < e.def.axes.size(); ++d) map.emplace_back(e.def.axes[d], index[d]);
      // (The loads were checked to be at the axes.)
      ir::Expr value = ir::replace_loads(ir::substitute(e.def.value, map), e.reads, current);
      current = ir::var("fused", value.type());
      lets.emplace_back(current, value);
    }
    ir::Stmt body = ir::store(group_out_, index, current);
    for (size_t i = lets.size(); i-- > 0;) body = ir::let_stmt(lets[i].first, lets[i].second, body);
    return body;
  }

 private:
  const Prologue* find_prologue(const ir::ExprNode* v) const {
    for (const Prologue& p : prologues_)
      if (p.param.get() == v) return &p;
    return nullptr;
  }

  std::vector<Prologue> prologues_;
  ir::Var head_out_;
  std::vector<Epilogue> epilogues_;
  ir::Var group_out_;
  bool failed_ = false;
};

}  // namespace

int FusionGroup::last() const {
  int last = head;
  for (int p : prologues) last = std::max(last, p);
  for (int e : epilogues) last = std::max(last, e);
  return last;
}

std::vector<FusionGroup> partition_fusion(
    const graph::Graph& graph, const std::vector<std::optional<graph::LoweredOperator>>& lowered) {
  const size_t n = graph.ops.size();
  std::unordered_map<const TensorNode*, std::vector<int>> consumers;
  std::unordered_map<const graph::OperatorNode*, int> index_of;
  for (size_t i = 0; i < n; ++i) {
    index_of[graph.ops[i].get()] = static_cast<int>(i);
    for (const graph::Tensor& t : graph.ops[i]->inputs)
      if (t) consumers[t.get()].push_back(static_cast<int>(i));
  }
  std::unordered_set<const TensorNode*> outputs;
  for (const graph::Tensor& t : graph.outputs) outputs.insert(t.get());

  auto single_output = [&](int i) {
    const graph::OperatorNode& op = *graph.ops[i];
    // Trailing optional outputs that are absent do not count.
    return lowered[i] && lowered[i]->task.outputs().size() == 1 && !op.outputs.empty() &&
           op.outputs[0] != nullptr;
  };
  auto injective = [&](int i) { return single_output(i) && lowered[i]->task.is_injective(); };
  // The tensor `i` writes, when exactly one operator reads it once and it is not a graph output.
  auto private_output = [&](int i) -> const TensorNode* {
    if (!single_output(i)) return nullptr;
    const TensorNode* t = graph.ops[i]->outputs[0].get();
    auto it = consumers.find(t);
    if (outputs.count(t) || it == consumers.end() || it->second.size() != 1) return nullptr;
    return t;
  };

  std::vector<int> owner(n, -1);
  std::vector<FusionGroup> groups;
  for (size_t h = 0; h < n; ++h) {
    const int head = static_cast<int>(h);
    if (!lowered[h] || owner[h] != -1) continue;
    const int g = static_cast<int>(groups.size());
    groups.push_back({head, {}, {}});
    owner[h] = g;
    // Prologues: injective producers that stayed alone and feed only this head.
    for (const graph::Tensor& t : graph.ops[h]->inputs) {
      if (!t || !t->producer) continue;
      auto it = index_of.find(t->producer);
      if (it == index_of.end()) continue;
      const int p = it->second;
      if (!injective(p) || private_output(p) != t.get() || owner[p] == -1) continue;
      FusionGroup& alone = groups[owner[p]];
      if (alone.head != p || !alone.prologues.empty() || !alone.epilogues.empty()) continue;
      alone.head = -1;
      owner[p] = g;
      groups[g].prologues.push_back(p);
    }
    // The epilogue chain.
    for (int current = head;;) {
      const TensorNode* t = private_output(current);
      if (t == nullptr) break;
      const int e = consumers.at(t)[0];
      if (owner[e] != -1 || !injective(e)) break;
      const graph::OperatorNode& op = *graph.ops[e];
      if (graph::known_sizes(op.outputs[0]->shape) != graph::known_sizes(t->shape)) break;
      ir::Var reads = input_var(op, *lowered[e], t);
      Definition def = definition(lowered[e]->task);
      if (!reads.defined() || !reads_only_at(def.value, reads, def.axes)) break;
      groups[g].epilogues.push_back(e);
      owner[e] = g;
      current = e;
    }
  }
  std::vector<FusionGroup> live;
  for (FusionGroup& g : groups)
    if (g.head != -1) live.push_back(std::move(g));
  std::stable_sort(live.begin(), live.end(),
                   [](const FusionGroup& a, const FusionGroup& b) { return a.last() < b.last(); });
  return live;
}

std::optional<FusedKernels> fuse_kernels(
    const FusionGroup& group, const std::vector<const graph::OperatorNode*>& ops,
    const std::vector<std::optional<graph::LoweredOperator>>& lowered,
    const std::vector<ir::Function>& head_kernels, const std::vector<KernelArg>& head_args) {
  auto arg_for = [&](const TensorNode* t) -> const KernelArg* {
    for (const KernelArg& a : head_args)
      if (a.tensor == t) return &a;
    return nullptr;
  };
  auto task_inputs = [&](int i) {
    std::vector<KernelArg> args;
    const graph::LoweredOperator& l = *lowered[i];
    for (size_t k = 0; k < l.used_inputs.size(); ++k)
      args.push_back({l.task.inputs()[k], ops[i]->inputs[l.used_inputs[k]].get()});
    return args;
  };

  std::vector<FusionRewriter::Prologue> prologues;
  std::vector<KernelArg> extra;  // inputs the prologues and epilogues read
  for (int p : group.prologues) {
    const KernelArg* arg = arg_for(ops[p]->outputs[0].get());
    if (arg == nullptr) return {};
    prologues.push_back({arg->param, definition(lowered[p]->task)});
    for (const KernelArg& a : task_inputs(p)) extra.push_back(a);
  }
  ir::Var head_out, group_out;
  const TensorNode* head_tensor = nullptr;
  const TensorNode* group_tensor = nullptr;
  std::vector<FusionRewriter::Epilogue> epilogues;
  if (!group.epilogues.empty()) {
    head_tensor = ops[group.head]->outputs[0].get();
    const KernelArg* arg = arg_for(head_tensor);
    if (arg == nullptr) return {};
    head_out = arg->param;
    const TensorNode* previous = head_tensor;
    for (int e : group.epilogues) {
      ir::Var reads = input_var(*ops[e], *lowered[e], previous);
      epilogues.push_back({reads, definition(lowered[e]->task)});
      for (const KernelArg& a : task_inputs(e))
        if (a.tensor != previous) extra.push_back(a);
      previous = ops[e]->outputs[0].get();
    }
    group_tensor = previous;
    group_out = lowered[group.epilogues.back()]->task.output_params()[0];
  }

  std::vector<ir::Stmt> bodies;
  for (const ir::Function& kernel : head_kernels) {
    FusionRewriter rewriter(prologues, head_out, epilogues, group_out);
    bodies.push_back(rewriter.mutate(kernel->body));
    if (rewriter.failed()) return {};
  }

  FusedKernels fused;
  std::unordered_set<const ir::ExprNode*> taken;
  auto add = [&](const KernelArg& a) {
    if (taken.insert(a.param.get()).second) fused.args.push_back(a);
  };
  for (const KernelArg& a : head_args) {
    bool is_prologue = false;
    for (int p : group.prologues) is_prologue |= a.tensor == ops[p]->outputs[0].get();
    if (is_prologue) continue;
    add(a.tensor == head_tensor && head_tensor != nullptr ? KernelArg{group_out, group_tensor} : a);
  }
  for (const KernelArg& a : extra) add(a);
  std::vector<ir::Var> params;
  for (const KernelArg& a : fused.args) params.push_back(a.param);
  for (size_t i = 0; i < head_kernels.size(); ++i)
    fused.functions.push_back(head_kernels[i].with_params_and_body(params, bodies[i]));
  return fused;
}

}  // namespace taskmap::model
