// fold_batch_norm: BatchNormalization(Conv(x, W, b)) -> Conv(x, W', b'), and likewise after a Gemm
// or a rank-2 MatMul with a constant weight.
// Requires: a specialized graph. Guarantees: the same outputs up to f32 rounding of the folded
// constants (computed in double); every folded BatchNormalization and its producer become one
// operator.
#include <cmath>
#include <optional>

#include "graph/passes/graph_editor.h"
#include "graph/passes/pattern.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {

using namespace patterns;

namespace {

// Inference form: no training mode, no running-statistics outputs.
bool is_inference(const OperatorNode& op) {
  if (attr_or<int64_t>(op, "training_mode", 0) != 0) return false;
  for (size_t k = 1; k < op.outputs.size(); ++k)
    if (op.outputs[k]) return false;
  return true;
}

Pattern batch_norm_after(const Pattern& producer) {
  return op("BatchNormalization", {producer.named("y"), constant("scale"), constant("beta"),
                                   constant("mean"), constant("var")})
      .where(is_inference);
}

// y = x * scale[c] + shift[c] per channel c: the BatchNormalization as an affine map.
struct ChannelAffine {
  std::vector<double> scale, shift;
};

std::optional<ChannelAffine> channel_affine(const Match& m, const OperatorNode& bn) {
  std::optional<double> eps = attr_or<double>(bn, "epsilon", 1e-5);
  if (!eps) return std::nullopt;
  const NDArray& scale = m.at("scale")->constant;
  const NDArray& beta = m.at("beta")->constant;
  const NDArray& mean = m.at("mean")->constant;
  const NDArray& var = m.at("var")->constant;
  int64_t channels = scale.numel();
  for (const NDArray* a : {&scale, &beta, &mean, &var})
    if (a->rank() != 1 || a->numel() != channels || !a->dtype().is_float()) return std::nullopt;
  ChannelAffine affine;
  for (int64_t c = 0; c < channels; ++c) {
    double s = scale.get_double(c) / std::sqrt(var.get_double(c) + *eps);
    affine.scale.push_back(s);
    affine.shift.push_back(beta.get_double(c) - mean.get_double(c) * s);
  }
  return affine;
}

// `w` (f32) with every element scaled by s[c], c its index along `axis`.
NDArray scale_along(const NDArray& w, int64_t axis, const std::vector<double>& s) {
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < w.rank(); ++d) inner *= w.shape()[d];
  int64_t channels = w.shape()[axis];
  NDArray out(ir::f32, w.shape());
  for (int64_t i = 0; i < w.numel(); ++i) {
    double c = s[(i / inner) % channels];
    out.data<float>()[i] = static_cast<float>(w.get_double(i) * c);
  }
  return out;
}

// b' = bias * s + shift, with `bias` one value per channel (or one for all, or none).
NDArray folded_bias(const NDArray* bias, double bias_factor, const ChannelAffine& affine) {
  int64_t channels = static_cast<int64_t>(affine.scale.size());
  NDArray out(ir::f32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    double b = bias ? bias->get_double(bias->numel() == 1 ? 0 : c) * bias_factor : 0.0;
    out.data<float>()[c] = static_cast<float>(b * affine.scale[c] + affine.shift[c]);
  }
  return out;
}

bool is_f32(const Tensor& t) {
  return t && t->dtype == ir::f32;
}

Tensor new_constant(const OperatorNode& near, const std::string& role, NDArray value) {
  return make_constant((near.name.empty() ? near.type : near.name) + "/" + role, std::move(value));
}

// The producer with the BatchNormalization folded in, or nullptr when it does not fold.
Operator folded(const OperatorNode& producer, const Match& m, const ChannelAffine& affine,
                const OperatorNode& bn) {
  int64_t channels = static_cast<int64_t>(affine.scale.size());
  const Tensor& w = m.at("w");
  const Tensor& y = m.at("y");
  if (!is_f32(w) || !is_f32(y) || !is_f32(m.at("x")) || y->shape.size() < 2 ||
      y->shape[1] != Dim(channels))
    return nullptr;
  const NDArray* bias = m.has("b") ? &m.at("b")->constant : nullptr;
  if (bias && (bias->dtype() != ir::f32 || (bias->numel() != 1 && bias->numel() != channels)))
    return nullptr;
  auto result = std::make_shared<OperatorNode>(producer);
  result->outputs = {bn.outputs[0]};
  if (producer.type == "Conv") {
    if (w->constant.rank() < 3 || w->constant.shape()[0] != channels) return nullptr;
    if (bias && bias->rank() != 1) return nullptr;
    NDArray w2 = scale_along(w->constant, 0, affine.scale);
    result->inputs = {m.at("x"), new_constant(producer, "weight", w2),
                      new_constant(producer, "bias", folded_bias(bias, 1.0, affine))};
    return result;
  }
  // Gemm (alpha * A * B + beta * C) or MatMul, output [M, N]: channels are N.
  if (y->shape.size() != 2 || w->constant.rank() != 2) return nullptr;
  bool trans_b = producer.type == "Gemm" && attr_or<int64_t>(producer, "transB", 0) != 0;
  int64_t axis = trans_b ? 0 : 1;
  if (w->constant.shape()[axis] != channels) return nullptr;
  // C must be the same for every row: one value, [N] or [1, N].
  if (bias && bias->numel() == channels && bias->rank() == 2 && bias->shape()[0] != 1)
    return nullptr;
  std::optional<double> beta = attr_or<double>(producer, "beta", 1.0);
  if (!beta) return nullptr;
  result->type = "Gemm";
  result->inputs = {m.at("x"),
                    new_constant(producer, "weight", scale_along(w->constant, axis, affine.scale)),
                    new_constant(producer, "bias", folded_bias(bias, *beta, affine))};
  result->attrs["beta"] = 1.0;
  if (producer.type == "MatMul") result->opset = 0;
  return result;
}

}  // namespace

Graph fold_batch_norm(const Graph& graph) {
  Pattern x = input("x"), w = constant("w"), b = constant("b");
  const std::vector<Pattern> forms = {
      batch_norm_after(either({op("Conv", {x, w}), op("Conv", {x, w, b})})),
      batch_norm_after(either({op("Gemm", {x, w}), op("Gemm", {x, w, b})})),
      batch_norm_after(op("MatMul", {x, w})),
  };
  Matcher matcher(graph);
  GraphEditor editor(graph);
  for (const Operator& bn : graph.ops) {
    if (bn->type != "BatchNormalization" || bn->outputs.empty() || editor.is_edited(bn.get()))
      continue;
    for (const Pattern& form : forms) {
      std::optional<Match> m = matcher.match(form, bn->outputs[0]);
      if (!m || editor.any_edited(m->ops)) continue;
      std::optional<ChannelAffine> affine = channel_affine(*m, *bn);
      const OperatorNode* producer = m->at("y")->producer;
      Operator result = affine ? folded(*producer, *m, *affine, *bn) : nullptr;
      if (result) editor.replace(m->ops, result);
      break;
    }
  }
  return editor.finish();
}

}  // namespace taskmap::graph
