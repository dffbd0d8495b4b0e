// convert_precision: an f32 graph run in f16 or bf16. Operators whose f32 inputs can all be of
// another float type take the narrow type instead (their computes widen to f32 inside, so only
// storage narrows: MatMul and Conv accumulate, normalizations and softmax reduce in f32); the
// rest keep f32, Casts going between the two where a value crosses. Constants are converted once
// at compile time, rounded to nearest even; graph inputs and outputs keep their f32 types and
// names behind a Cast.
//
// Requires: a specialized graph (every type known). Guarantees: the same outputs, under the same
// names and types, up to the narrow type's rounding.
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {
namespace {

// Inputs that ONNX types f32 whatever the data's type (sizes and regions, not data).
const std::map<std::string, std::set<size_t>>& f32_only_inputs() {
  static const std::map<std::string, std::set<size_t>> inputs = {
      {"Resize", {1, 2}},  // roi, scales
      {"Upsample", {1}},   // scales
  };
  return inputs;
}

// Operators left in f32: quantization (its scales set integer grids, where a rounded scale moves
// every value) and box selection (overlap thresholds compare computed areas).
bool stays_f32(const OperatorNode& op) {
  static const std::set<std::string> kTypes = {"QuantizeLinear", "DequantizeLinear",
                                               "DynamicQuantizeLinear", "NonMaxSuppression"};
  if (!op.domain.empty() && op.domain != kTaskmapDomain) return true;
  if (kTypes.count(op.type)) return true;
  // Loop / Scan bodies are typed for the values they are given.
  for (const auto& [name, value] : op.attrs)
    if (std::holds_alternative<std::shared_ptr<Graph>>(value)) return true;
  return false;
}

NDArray converted(const NDArray& value, ir::DType to) {
  NDArray out(to, value.shape());
  for (int64_t i = 0; i < value.numel(); ++i) out.set_double(i, value.get_double(i));
  return out;
}

class PrecisionConverter {
 public:
  PrecisionConverter(const Graph& graph, ir::DType narrow) : graph_(graph), narrow_(narrow) {
    for (const Tensor& t : graph.tensors()) names_.insert(t->name);
  }

  Graph run() {
    out_.name = graph_.name;
    out_.source = graph_.source;
    for (const Tensor& input : graph_.inputs) {
      out_.inputs.push_back(input);
      mapping_[input.get()] = input;
    }
    for (const Operator& op : graph_.ops) convert(*op);
    for (const Tensor& output : graph_.outputs) out_.outputs.push_back(graph_output(output));
    return out_;
  }

 private:
  // The tensor of `out_` holding `t`'s value, in whichever type it was left.
  Tensor value(const Tensor& t) {
    auto it = mapping_.find(t.get());
    if (it != mapping_.end()) return it->second;
    TM_ASSERT(t->is_constant()) << "tensor '" << t->name << "' used before it is defined";
    mapping_[t.get()] = t;
    return t;
  }

  // `t`'s value as `dtype`: itself, a converted constant or a Cast (each made once).
  Tensor value_as(const Tensor& t, ir::DType dtype) {
    Tensor v = value(t);
    if (v->dtype == dtype) return v;
    auto key = std::make_pair(t.get(), dtype.name());
    auto it = casts_.find(key);
    if (it != casts_.end()) return it->second;
    Tensor cast;
    if (v->is_constant()) {
      cast = make_constant(fresh_name(t->name, dtype), converted(v->constant, dtype));
    } else {
      cast = make_tensor(fresh_name(t->name, dtype), dtype, v->shape);
      add_cast(v, cast);
    }
    return casts_[key] = cast;
  }

  void add_cast(const Tensor& from, const Tensor& to) {
    auto cast = std::make_shared<OperatorNode>();
    cast->type = "Cast";
    cast->name = to->name;
    cast->attrs["to"] = static_cast<int64_t>(onnx::dtype_to_onnx(to->dtype));
    cast->inputs = {from};
    cast->outputs = {to};
    out_.add(cast);
  }

  std::string fresh_name(const std::string& base, ir::DType dtype) {
    std::string name = base + "_" + dtype.name();
    for (int k = 2; names_.count(name); ++k) name = base + "_" + dtype.name() + std::to_string(k);
    names_.insert(name);
    return name;
  }

  bool narrows(const OperatorNode& op, size_t input) const {
    const Tensor& t = op.inputs[input];
    if (!t || t->dtype != ir::f32) return false;
    auto it = f32_only_inputs().find(op.type);
    return it == f32_only_inputs().end() || !it->second.count(input);
  }

  // `op` with its f32 inputs narrowed (a Cast to f32 becomes one to the narrow type), or nullptr
  // where none is f32 or the operator does not take the narrow type. Types are checked on
  // stand-ins first, so an operator that keeps f32 leaves no Casts behind.
  Operator narrowed(const OperatorNode& op) {
    if (stays_f32(op)) return nullptr;
    auto copy = std::make_shared<OperatorNode>(op);
    bool any = false;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const Tensor& t = op.inputs[i];
      if (!t || !narrows(op, i)) continue;
      any = true;
      copy->inputs[i] = t->is_constant() ? value_as(t, narrow_)  // converted once, no operator
                                         : make_tensor(t->name, narrow_, t->shape);
    }
    if (op.type == "Cast" && op.domain.empty() && op.outputs[0]->dtype == ir::f32) {
      copy->attrs["to"] = static_cast<int64_t>(onnx::dtype_to_onnx(narrow_));
      any = true;
    }
    if (!any) return nullptr;
    std::vector<OutputType> types;
    try {
      types = infer_output_types(*copy, graph_.source);
    } catch (const UserError&) {
      return nullptr;  // an operator defined for f32 only: it keeps f32
    }
    for (size_t i = 0; i < op.inputs.size(); ++i)
      if (op.inputs[i])
        copy->inputs[i] = value_as(op.inputs[i], narrows(op, i) ? narrow_ : op.inputs[i]->dtype);
    set_outputs(*copy, types);
    return copy;
  }

  void set_outputs(OperatorNode& copy, const std::vector<OutputType>& types) {
    for (size_t k = 0; k < copy.outputs.size(); ++k) {
      const Tensor& old = copy.outputs[k];
      if (!old) continue;
      copy.outputs[k] = old->dtype == types.at(k).dtype
                            ? make_tensor(old->name, old->dtype, old->shape)
                            : make_tensor(fresh_name(old->name, types.at(k).dtype),
                                          types.at(k).dtype, old->shape);
    }
  }

  void convert(const OperatorNode& op) {
    Operator copy = narrowed(op);
    if (!copy) {
      copy = std::make_shared<OperatorNode>(op);
      for (size_t i = 0; i < op.inputs.size(); ++i)
        if (op.inputs[i]) copy->inputs[i] = value_as(op.inputs[i], op.inputs[i]->dtype);
      for (Tensor& t : copy->outputs)
        if (t) t = make_tensor(t->name, t->dtype, t->shape);
    }
    out_.add(copy);
    for (size_t k = 0; k < op.outputs.size(); ++k)
      if (op.outputs[k]) mapping_[op.outputs[k].get()] = copy->outputs[k];
  }

  // The graph output standing for `output`: its own name and type, through a Cast where its
  // operator ran narrow.
  Tensor graph_output(const Tensor& output) {
    Tensor v = value(output);
    if (v->dtype == output->dtype) return v;
    Tensor& named = graph_outputs_[output.get()];  // an output listed twice is cast once
    if (!named) {
      named = make_tensor(output->name, output->dtype, output->shape);
      add_cast(v, named);
    }
    return named;
  }

  const Graph& graph_;
  ir::DType narrow_;
  Graph out_;
  std::set<std::string> names_;
  std::unordered_map<const TensorNode*, Tensor> mapping_;
  std::map<std::pair<const TensorNode*, std::string>, Tensor> casts_;
  std::unordered_map<const TensorNode*, Tensor> graph_outputs_;
};

}  // namespace

Graph convert_precision(const Graph& graph, ir::DType to) {
  TM_USER_CHECK(to == ir::f32 || to == ir::f16 || to == ir::bf16)
      << "precision " << to.name() << " is not supported (f32, f16 or bf16)";
  if (to == ir::f32) return graph;
  return PrecisionConverter(graph, to).run();
}

}  // namespace taskmap::graph
