// recognize_gelu: GELU written out elementwise (as ONNX exporters before opset 20 write it)
// becomes one Gelu operator.
// Requires: a specialized graph. Guarantees: the same outputs up to float rounding; each matched
// subgraph (its intermediates read by nothing else) becomes one Gelu of the same output tensor.
#include <cmath>
#include <numbers>
#include <optional>

#include "graph/passes/graph_editor.h"
#include "graph/passes/pattern.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {

using namespace patterns;

namespace {

// 0.5 * x * (1 + f) in any association, or x * (1 + f) / 2.
Pattern half_x_times_one_plus(const Pattern& x, const Pattern& f) {
  Pattern one_plus = commutative("Add", f, scalar(1));
  return either(
      {product({scalar(0.5), x, one_plus}), op("Div", {product({x, one_plus}), scalar(2)})});
}

// 0.5 * x * (1 + erf(x / sqrt(2))).
Pattern erf_form(const Pattern& x) {
  Pattern scaled = either(
      {op("Div", {x, scalar(std::numbers::sqrt2)}), product({x, scalar(1 / std::numbers::sqrt2)})});
  return half_x_times_one_plus(x, op("Erf", {scaled}));
}

// 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), also with the inner factor written
// sqrt(2 / pi) * x * (1 + 0.044715 * x * x).
Pattern tanh_form(const Pattern& x) {
  const double c = std::sqrt(2 / std::numbers::pi), k = 0.044715;
  Pattern cubed =
      either({product({scalar(k), op("Pow", {x, scalar(3)})}), product({scalar(k), x, x, x})});
  Pattern inner = either({
      product({scalar(c), commutative("Add", x, cubed)}),
      product({scalar(c), x, commutative("Add", scalar(1), product({scalar(k), x, x}))}),
  });
  return half_x_times_one_plus(x, op("Tanh", {inner}));
}

struct Form {
  Pattern pattern;
  std::map<std::string, AttrValue> attrs;
};

}  // namespace

Graph recognize_gelu(const Graph& graph) {
  Pattern x = input("x");
  const std::vector<Form> forms = {
      {erf_form(x), {}},
      {tanh_form(x), {{"approximate", std::string("tanh")}}},
  };
  Matcher matcher(graph);
  GraphEditor editor(graph);
  // From the end, so the outermost product of a chain is tried first.
  for (auto it = graph.ops.rbegin(); it != graph.ops.rend(); ++it) {
    const OperatorNode& root = **it;
    if ((root.type != "Mul" && root.type != "Div") || editor.is_edited(&root)) continue;
    const Tensor& y = root.outputs.at(0);
    for (const Form& form : forms) {
      std::optional<Match> m = matcher.match(form.pattern, y);
      if (!m || editor.any_edited(m->ops)) continue;
      const Tensor& in = m->at("x");
      if (!in->dtype.is_float() || in->dtype != y->dtype || in->shape != y->shape) continue;
      editor.replace(m->ops, fused_operator("Gelu", {in}, root, form.attrs));
      break;
    }
  }
  return editor.finish();
}

}  // namespace taskmap::graph
