// recognize_layer_norm: LayerNorm written out (ONNX exports before opset 17) becomes one
// LayerNormalization operator.
// Requires: a specialized graph. Guarantees: the same outputs up to float rounding; each matched
// subgraph (its intermediates read by nothing else) becomes one LayerNormalization of the same
// output tensor.
#include <optional>

#include "graph/passes/graph_editor.h"
#include "graph/passes/pattern.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {

using namespace patterns;

namespace {

// A ReduceMean over the last axis only, keeping it (axes as an attribute, or as a constant input
// from opset 18).
bool reduces_last_axis(const OperatorNode& op) {
  if (op.inputs.empty() || !op.inputs[0]) return false;
  int64_t rank = static_cast<int64_t>(op.inputs[0]->shape.size());
  if (attr_or<int64_t>(op, "keepdims", 1) != 1) return false;
  std::optional<std::vector<int64_t>> axes = attr_or<std::vector<int64_t>>(op, "axes", {});
  if (!axes) return false;
  if (op.inputs.size() > 1) {
    if (!op.inputs[1] || !op.inputs[1]->is_constant()) return false;
    axes = op.inputs[1]->constant.to_int_vector();
  }
  if (axes->empty())  // every axis, or none with noop_with_empty_axes
    return rank == 1 && attr_or<int64_t>(op, "noop_with_empty_axes", 0) == 0;
  return axes->size() == 1 && ((*axes)[0] == -1 || (*axes)[0] == rank - 1);
}

Pattern mean_over_last_axis(const Pattern& x) {
  return either({op("ReduceMean", {x}).where(reduces_last_axis),
                 op("ReduceMean", {x, constant()}).where(reduces_last_axis)});
}

// [Add(Mul((x - mean) / sqrt(mean((x - mean)^2) + epsilon), scale), bias)], the Mul and Add
// optional.
Pattern layer_norm_pattern() {
  Pattern x = input("x");
  Pattern centered = op("Sub", {x, mean_over_last_axis(x)}).named("centered");
  Pattern squared = either({op("Pow", {centered, scalar(2)}), product({centered, centered})});
  Pattern variance = mean_over_last_axis(squared);
  Pattern std_dev = op("Sqrt", {commutative("Add", variance, constant("epsilon"))});
  Pattern normalized = op("Div", {centered, std_dev});
  Pattern scaled = product({normalized, constant("scale")});
  return either({
      commutative("Add", scaled, constant("bias")),
      scaled,
      commutative("Add", normalized, constant("bias")),
      normalized,
  });
}

// `t` (one value, or one per feature along the last axis) as a [features] array of `dtype`.
std::optional<NDArray> per_feature(const Tensor& t, int64_t features, ir::DType dtype,
                                   size_t max_rank) {
  const NDArray& v = t->constant;
  if (!v.dtype().is_float() || static_cast<size_t>(v.rank()) > max_rank) return std::nullopt;
  if (v.numel() != 1 && (v.numel() != features || v.shape().back() != features))
    return std::nullopt;
  NDArray out(dtype, {features});
  for (int64_t i = 0; i < features; ++i) out.set_double(i, v.get_double(v.numel() == 1 ? 0 : i));
  return out;
}

NDArray filled(int64_t features, ir::DType dtype, double value) {
  NDArray out(dtype, {features});
  for (int64_t i = 0; i < features; ++i) out.set_double(i, value);
  return out;
}

}  // namespace

Graph recognize_layer_norm(const Graph& graph) {
  const Pattern pattern = layer_norm_pattern();
  Matcher matcher(graph);
  GraphEditor editor(graph);
  for (auto it = graph.ops.rbegin(); it != graph.ops.rend(); ++it) {
    const OperatorNode& root = **it;
    if (editor.is_edited(&root) || root.outputs.empty() || !root.outputs[0]) continue;
    const Tensor& y = root.outputs[0];
    std::optional<Match> m = matcher.match(pattern, y);
    if (!m || editor.any_edited(m->ops)) continue;
    const Tensor& x = m->at("x");
    const NDArray& epsilon = m->at("epsilon")->constant;
    if (!x->dtype.is_float() || x->dtype != y->dtype || x->shape != y->shape ||
        !is_known(x->shape) || x->shape.empty() || epsilon.numel() != 1)
      continue;
    int64_t features = x->shape.back().size();
    size_t rank = x->shape.size();
    std::optional<NDArray> scale = m->has("scale")
                                       ? per_feature(m->at("scale"), features, x->dtype, rank)
                                       : filled(features, x->dtype, 1.0);
    std::optional<NDArray> bias;
    if (m->has("bias")) bias = per_feature(m->at("bias"), features, x->dtype, rank);
    if (!scale || (m->has("bias") && !bias)) continue;
    std::string name = root.name.empty() ? "layer_norm" : root.name;
    std::vector<Tensor> inputs = {x, make_constant(name + "/scale", *scale)};
    if (bias) inputs.push_back(make_constant(name + "/bias", *bias));
    editor.replace(m->ops,
                   fused_operator("LayerNormalization", inputs, root,
                                  {{"axis", int64_t{-1}}, {"epsilon", epsilon.get_double(0)}}));
  }
  return editor.finish();
}

}  // namespace taskmap::graph
