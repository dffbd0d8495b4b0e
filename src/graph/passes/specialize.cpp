// Specialization (shape inference + constant folding + If inlining + dead-op removal), one walk
// over the operators in order.
#include "taskmap/graph/specialize.h"

#include <unordered_map>
#include <unordered_set>

#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/run_operator.h"

namespace taskmap::graph {
namespace {

class Specializer {
 public:
  Specializer(const Graph& graph, const CompileOptions& options)
      : graph_(graph), options_(options) {}

  Graph run(const std::vector<InputBinding>& bindings) {
    TM_USER_CHECK(bindings.size() == graph_.inputs.size())
        << where() << "the model has " << graph_.inputs.size() << " inputs, " << bindings.size()
        << " were given";
    out_.name = graph_.name;
    out_.source = graph_.source;
    for (size_t i = 0; i < bindings.size(); ++i) bind_input(*graph_.inputs[i], bindings[i]);
    walk(graph_);
    for (const Tensor& t : graph_.outputs) {
      Tensor mapped = map(t);
      if (t->type_known) check_declared_output(*t, *mapped);
      out_.outputs.push_back(mapped);
    }
    remove_dead_ops();
    return std::move(out_);
  }

 private:
  std::string where() const { return graph_.source.empty() ? "" : graph_.source + ": "; }

  void bind_input(const TensorNode& input, const InputBinding& b) {
    std::string what = where() + "input '" + input.name + "': ";
    TM_USER_CHECK(b.dtype == input.dtype)
        << what << "expected dtype " << input.dtype.name() << ", got " << b.dtype.name();
    TM_USER_CHECK(b.shape.size() == input.shape.size())
        << what << "expected shape " << shape_str(input.shape) << ", got "
        << taskmap::shape_str(b.shape);
    for (size_t d = 0; d < b.shape.size(); ++d) {
      const Dim& declared = input.shape[d];
      TM_USER_CHECK(!declared.is_known() || declared.size() == b.shape[d])
          << what << "expected shape " << shape_str(input.shape) << ", got "
          << taskmap::shape_str(b.shape) << " (dimension " << d << ")";
      if (declared.is_symbol()) {
        auto [it, fresh] = symbols_.emplace(declared.name(), b.shape[d]);
        TM_USER_CHECK(fresh || it->second == b.shape[d])
            << what << "dimension '" << declared.name() << "' is " << b.shape[d] << " here but "
            << it->second << " in an earlier input";
      }
    }
    Tensor t = b.value.defined() ? make_constant(input.name, b.value)
                                 : make_tensor(input.name, b.dtype, to_shape(b.shape));
    if (!b.value.defined())
      out_.inputs.push_back(t);
    else
      out_.inputs.push_back(make_tensor(input.name, b.dtype, to_shape(b.shape)));
    mapping_[&input] = t;
  }

  Tensor map(const Tensor& t) {
    if (!t) return nullptr;
    auto it = mapping_.find(t.get());
    if (it != mapping_.end()) return it->second;
    TM_ASSERT(t->is_constant()) << "tensor '" << t->name << "' used before it is defined";
    Tensor c = make_constant(t->name, t->constant);
    mapping_[t.get()] = c;
    return c;
  }

  void walk(const Graph& g) {
    for (const Operator& op : g.ops) {
      if (op->type == "If" && op->domain.empty()) {
        inline_if(*op);
        continue;
      }
      specialize_op(*op);
    }
  }

  void specialize_op(const OperatorNode& op) {
    auto copy = std::make_shared<OperatorNode>(op);
    for (Tensor& t : copy->inputs) t = map(t);
    std::vector<OutputType> types = infer_output_types(*copy, graph_.source);
    bool all_constant = true;
    for (const Tensor& t : copy->inputs) all_constant &= (t == nullptr || t->is_constant());
    // Host operators (no kernel) run at compile time only: all their inputs must be known.
    const OpDef* def = find_op(copy->type, copy->domain);
    if (def != nullptr && !def->lower && !all_constant) {
      for (const Tensor& t : copy->inputs)
        if (t && !t->is_constant())
          throw ValueNeeded(t,
                            OpContext(*copy, graph_.source).where() + "input '" + t->name +
                                "' must be known before run time (the operator runs on the host)");
    }
    std::vector<NDArray> values;
    if (all_constant) {
      std::vector<NDArray> inputs;
      for (const Tensor& t : copy->inputs) inputs.push_back(t ? t->constant : NDArray());
      values = run_operator(*copy, inputs, options_, graph_.source);
    }
    for (size_t k = 0; k < copy->outputs.size(); ++k) {
      if (!op.outputs[k]) continue;
      Tensor t = all_constant ? make_constant(op.outputs[k]->name, values.at(k))
                              : make_tensor(op.outputs[k]->name, types.at(k).dtype,
                                            to_shape(types.at(k).shape));
      copy->outputs[k] = t;
      mapping_[op.outputs[k].get()] = t;
    }
    if (!all_constant) out_.add(copy);
  }

  void inline_if(const OperatorNode& op) {
    OpContext ctx(op, graph_.source);
    Tensor cond = map(op.inputs.at(0));
    TM_OP_CHECK(ctx, cond != nullptr) << "the condition input is missing";
    // A condition computed at run time: the model specializes on the data it comes from.
    if (!cond->is_constant()) {
      throw ValueNeeded(
          cond, ctx.where() + "the condition '" + cond->name + "' must be known before run time");
    }
    bool taken = cond->constant.get_double(0) != 0;
    const auto& branch =
        std::get<std::shared_ptr<Graph>>(op.attrs.at(taken ? "then_branch" : "else_branch"));
    walk(*branch);
    TM_OP_CHECK(ctx, branch->outputs.size() == op.outputs.size())
        << "branch '" << branch->name << "' has " << branch->outputs.size() << " outputs, the node "
        << op.outputs.size();
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      if (op.outputs[k]) mapping_[op.outputs[k].get()] = map(branch->outputs[k]);
    }
  }

  void check_declared_output(const TensorNode& declared, const TensorNode& actual) {
    TM_USER_CHECK(declared.dtype == actual.dtype)
        << where() << "output '" << declared.name << "' is declared " << declared.dtype.name()
        << " but computes " << actual.dtype.name();
  }

  void remove_dead_ops() {
    std::unordered_set<const TensorNode*> live;
    for (const Tensor& t : out_.outputs) live.insert(t.get());
    std::vector<Operator> kept;
    for (auto it = out_.ops.rbegin(); it != out_.ops.rend(); ++it) {
      bool used = false;
      for (const Tensor& t : (*it)->outputs) used |= t && live.count(t.get());
      if (!used) continue;
      for (const Tensor& t : (*it)->inputs)
        if (t) live.insert(t.get());
      kept.push_back(*it);
    }
    out_.ops.assign(kept.rbegin(), kept.rend());
  }

  const Graph& graph_;
  const CompileOptions& options_;
  Graph out_;
  std::unordered_map<const TensorNode*, Tensor> mapping_;
  std::unordered_map<std::string, int64_t> symbols_;
};

}  // namespace

std::vector<InputBinding> bindings_of(const std::vector<NDArray>& inputs) {
  std::vector<InputBinding> bindings;
  for (const NDArray& x : inputs) bindings.push_back({x.dtype(), x.shape(), x});
  return bindings;
}

Graph specialize(const Graph& graph, const std::vector<InputBinding>& inputs,
                 const CompileOptions& options) {
  return Specializer(graph, options).run(inputs);
}

std::vector<int> inputs_feeding(const Graph& graph, const TensorNode* tensor) {
  std::unordered_set<const TensorNode*> seen;
  std::vector<const TensorNode*> stack{tensor};
  while (!stack.empty()) {
    const TensorNode* t = stack.back();
    stack.pop_back();
    if (!t || !seen.insert(t).second || !t->producer) continue;
    for (const Tensor& in : t->producer->inputs) stack.push_back(in.get());
  }
  std::vector<int> result;
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    if (seen.count(graph.inputs[i].get())) result.push_back(static_cast<int>(i));
  return result;
}

}  // namespace taskmap::graph
