#include "taskmap/graph/op_registry.h"

#include <algorithm>
#include <unordered_map>

#include "graph/ops/op_util.h"
#include "taskmap/ir/functor.h"

namespace taskmap::graph {
namespace {

// The registry's key: the type, qualified by its domain outside the default one.
std::string qualified(std::string_view type, std::string_view domain) {
  return domain.empty() ? std::string(type) : std::string(domain) + "." + std::string(type);
}

// Every operator family, in one list.
const std::unordered_map<std::string, OpDef>& registry() {
  static const std::unordered_map<std::string, OpDef> table = [] {
    std::vector<OpDef> defs;
    ops::register_elementwise_ops(defs);
    ops::register_tensor_ops(defs);
    ops::register_reduce_ops(defs);
    ops::register_nn_ops(defs);
    ops::register_loss_ops(defs);
    ops::register_quantize_ops(defs);
    ops::register_signal_ops(defs);
    ops::register_misc_ops(defs);
    std::unordered_map<std::string, OpDef> by_type;
    for (OpDef& def : defs) {
      TM_ASSERT(def.lower || (def.infer && def.evaluate))
          << def.type << " needs lower, or infer and evaluate";
      std::string key = qualified(def.type, def.domain);
      TM_ASSERT(by_type.emplace(key, std::move(def)).second) << key << " registered twice";
    }
    return by_type;
  }();
  return table;
}

const OpDef& definition(const OpContext& ctx) {
  const OpDef* def = find_op(ctx.type(), ctx.op().domain);
  TM_OP_CHECK(ctx, def != nullptr)
      << "operator " << (ctx.op().domain.empty() ? "" : ctx.op().domain + ".") << ctx.type()
      << " is not supported";
  TM_OP_CHECK(ctx, ctx.opset() == 0 || ctx.opset() >= def->min_opset)
      << "opset " << ctx.opset() << " is not supported (needs " << def->min_opset << " or newer)";
  return *def;
}

Outputs lower_outputs(const OpContext& ctx, const OpDef& def) {
  Outputs outputs = def.lower(ctx);
  TM_OP_CHECK(ctx, outputs.size() >= static_cast<size_t>(ctx.num_outputs()))
      << "the node asks for " << ctx.num_outputs() << " outputs; only " << outputs.size()
      << " are supported";
  outputs.resize(ctx.num_outputs());
  return outputs;
}

}  // namespace

const OpDef* find_op(std::string_view type, std::string_view domain) {
  auto it = registry().find(qualified(type, domain));
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> registered_op_types() {
  std::vector<std::string> types;
  for (const auto& [key, def] : registry())
    if (def.domain.empty()) types.push_back(def.type);
  std::sort(types.begin(), types.end());
  return types;
}

LoweredOperator lower_operator(const OperatorNode& op, const std::string& source) {
  OpContext ctx(op, source);
  const OpDef& def = definition(ctx);
  TM_OP_CHECK(ctx, def.lower != nullptr) << "runs on the host only and has no kernel";
  Outputs outputs = lower_outputs(ctx, def);
  std::vector<int> used;
  for (int i : ctx.used_params()) {
    // A one-element f32 constant (a Div's √d, a Clip's bounds, a Where's fill value) becomes an
    // immediate of the compute instead of a kernel argument: the compiler then sees the value
    // (x / 8 turns into the exact x · 0.125, a clip into min / max against constants) and the
    // kernel loads nothing per element. (Single outputs only: outputs sharing an intermediate
    // compute would each get a copy of it.)
    const TensorNode* input = op.inputs[i].get();
    if (outputs.size() == 1 && input != nullptr && input->is_constant() &&
        input->constant.numel() == 1 && input->constant.dtype() == ir::f32) {
      outputs[0] =
          ir::replace_loads(outputs[0], ctx.param(i), ir::float_imm(input->constant.get_double(0)));
      continue;
    }
    used.push_back(i);
  }
  std::vector<ir::Var> inputs;
  for (int i : used) inputs.push_back(ctx.param(i));
  std::string name = op.type;
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  std::map<std::string, std::string> attrs;
  if (def.task_attrs) attrs = def.task_attrs(ctx);
  return {ir::Task(name, inputs, outputs, std::move(attrs)), used};
}

std::vector<OutputType> infer_output_types(const OperatorNode& op, const std::string& source) {
  OpContext ctx(op, source);
  const OpDef& def = definition(ctx);
  if (!def.lower) return def.infer(ctx);
  std::vector<OutputType> types;
  for (const ir::Expr& out : lower_outputs(ctx, def)) {
    const auto* c = out.as<ir::ComputeNode>();
    TM_ASSERT(c != nullptr) << op.type << ": lower must return computes";
    types.push_back({out.dtype(), out.type().shape()});
  }
  return types;
}

}  // namespace taskmap::graph
