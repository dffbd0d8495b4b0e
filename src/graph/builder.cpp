#include "taskmap/graph/builder.h"

#include <cmath>
#include <numbers>

#include "taskmap/error.h"
#include "taskmap/graph/op_registry.h"

namespace taskmap::graph {

GraphBuilder::GraphBuilder(std::string name, uint64_t seed) : rng_(seed) {
  graph_.name = std::move(name);
}

std::string GraphBuilder::fresh(const std::string& prefix) {
  return prefix + "_" + std::to_string(counters_[prefix]++);
}

Tensor GraphBuilder::input(const std::string& name, ir::DType dtype, Shape shape) {
  Tensor t = make_tensor(name, dtype, std::move(shape));
  graph_.inputs.push_back(t);
  return t;
}

void GraphBuilder::output(const Tensor& t, const std::string& name) {
  if (!name.empty()) t->name = name;
  graph_.outputs.push_back(t);
}

Graph GraphBuilder::build() {
  graph_.validate();
  return std::move(graph_);
}

Tensor GraphBuilder::constant(NDArray value, const std::string& name) {
  return make_constant(name.empty() ? fresh("const") : name, std::move(value));
}

Tensor GraphBuilder::scalar(double value, ir::DType dtype) {
  NDArray v(dtype, {});
  v.set_double(0, value);
  return constant(v);
}

Tensor GraphBuilder::ints(const std::vector<int64_t>& values) {
  NDArray v(ir::i64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) v.set_int(static_cast<int64_t>(i), values[i]);
  return constant(v);
}

Tensor GraphBuilder::weight(const std::vector<int64_t>& shape, double scale) {
  if (scale == 0) {
    int64_t fan_in =
        shape.size() <= 1 ? (shape.empty() ? 1 : shape[0]) : shape_numel(shape) / shape[0];
    scale = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fan_in, 1)));
  }
  NDArray v(ir::f32, shape);
  std::normal_distribution<double> normal(0.0, scale);
  for (int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] = static_cast<float>(normal(rng_));
  return make_constant(fresh("w"), v);
}

Tensor GraphBuilder::uniform(const std::vector<int64_t>& shape, double lo, double hi) {
  NDArray v(ir::f32, shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] = static_cast<float>(dist(rng_));
  return make_constant(fresh("w"), v);
}

std::vector<Tensor> GraphBuilder::op(const std::string& type, const std::vector<Tensor>& inputs,
                                     std::map<std::string, AttrValue> attrs, int num_outputs) {
  auto node = std::make_shared<OperatorNode>();
  node->type = type;
  node->name = fresh(type);
  node->inputs = inputs;
  node->attrs = std::move(attrs);
  for (int k = 0; k < num_outputs; ++k) {
    Tensor t =
        make_tensor(node->name + (num_outputs > 1 ? "_" + std::to_string(k) : ""), ir::f32, {});
    t->type_known = false;
    node->outputs.push_back(t);
  }
  graph_.add(node);
  // Shapes are inferred as the graph grows, so helpers can read them and mistakes surface here.
  bool known = true;
  for (const Tensor& t : node->inputs) known &= !t || (t->type_known && is_known(t->shape));
  if (known) {
    std::vector<OutputType> types =
        infer_output_types(*node, "graph builder '" + graph_.name + "'");
    for (size_t k = 0; k < node->outputs.size() && k < types.size(); ++k) {
      node->outputs[k]->dtype = types[k].dtype;
      node->outputs[k]->shape = to_shape(types[k].shape);
      node->outputs[k]->type_known = true;
    }
  }
  return node->outputs;
}

Tensor GraphBuilder::op1(const std::string& type, const std::vector<Tensor>& inputs,
                         std::map<std::string, AttrValue> attrs) {
  return op(type, inputs, std::move(attrs), 1).front();
}

Tensor GraphBuilder::conv2d(const Tensor& x, const Tensor& w, const Tensor& bias,
                            const ConvAttrs& a) {
  std::vector<Tensor> inputs = {x, w};
  if (bias) inputs.push_back(bias);
  return op1(
      "Conv", inputs,
      {{"strides", a.strides}, {"pads", a.pads}, {"dilations", a.dilations}, {"group", a.group}});
}

Tensor GraphBuilder::batch_norm(const Tensor& x, double epsilon, double gamma_scale) {
  TM_USER_CHECK(x->shape.size() >= 2 && x->shape[1].is_known())
      << "batch_norm needs a known channel count; pass the channel count through the weights";
  int64_t c = x->shape[1].size();
  return op1("BatchNormalization",
             {x, uniform({c}, 0.5 * gamma_scale, 1.5 * gamma_scale), uniform({c}, -0.1, 0.1),
              uniform({c}, -0.1, 0.1), uniform({c}, 0.5, 1.5)},
             {{"epsilon", epsilon}});
}

Tensor GraphBuilder::relu6(const Tensor& x) {
  return op1("Clip", {x, scalar(0.0), scalar(6.0)});
}

Tensor GraphBuilder::gemm(const Tensor& a, const Tensor& w, const Tensor& bias, bool trans_b) {
  return op1("Gemm", {a, w, bias}, {{"transB", static_cast<int64_t>(trans_b)}});
}

Tensor GraphBuilder::max_pool(const Tensor& x, const PoolAttrs& a) {
  return op1("MaxPool", {x},
             {{"kernel_shape", a.kernel}, {"strides", a.strides}, {"pads", a.pads}});
}

Tensor GraphBuilder::average_pool(const Tensor& x, const PoolAttrs& a) {
  return op1("AveragePool", {x},
             {{"kernel_shape", a.kernel},
              {"strides", a.strides},
              {"pads", a.pads},
              {"count_include_pad", static_cast<int64_t>(a.count_include_pad)}});
}

Tensor GraphBuilder::flatten(const Tensor& x, int64_t axis) {
  return op1("Flatten", {x}, {{"axis", axis}});
}

Tensor GraphBuilder::reshape(const Tensor& x, const std::vector<int64_t>& shape) {
  return op1("Reshape", {x, ints(shape)});
}

Tensor GraphBuilder::transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  return op1("Transpose", {x}, {{"perm", perm}});
}

Tensor GraphBuilder::concat(const std::vector<Tensor>& xs, int64_t axis) {
  return op1("Concat", xs, {{"axis", axis}});
}

Tensor GraphBuilder::softmax(const Tensor& x, int64_t axis) {
  return op1("Softmax", {x}, {{"axis", axis}});
}

Tensor GraphBuilder::layer_norm(const Tensor& x, int64_t features, double epsilon) {
  return op1("LayerNormalization",
             {x, uniform({features}, 0.8, 1.2), uniform({features}, -0.1, 0.1)},
             {{"axis", int64_t{-1}}, {"epsilon", epsilon}});
}

Tensor GraphBuilder::gelu(const Tensor& x) {
  Tensor scaled = op1("Div", {x, scalar(std::sqrt(2.0))});
  Tensor erf1 = op1("Add", {op1("Erf", {scaled}), scalar(1.0)});
  return op1("Mul", {op1("Mul", {x, erf1}), scalar(0.5)});
}

Tensor GraphBuilder::gelu_tanh(const Tensor& x) {
  Tensor cube = mul(mul(x, x), x);
  Tensor inner = add(x, mul(cube, scalar(0.044715)));
  Tensor t = op1("Tanh", {mul(inner, scalar(std::sqrt(2.0 / std::numbers::pi)))});
  return mul(mul(x, scalar(0.5)), add(t, scalar(1.0)));
}

Tensor GraphBuilder::gather(const Tensor& data, const Tensor& indices, int64_t axis) {
  return op1("Gather", {data, indices}, {{"axis", axis}});
}

Tensor GraphBuilder::linear(const Tensor& x, int64_t in, int64_t out) {
  return add(matmul(x, weight({in, out}, 1.0 / std::sqrt(static_cast<double>(in)))),
             uniform({out}, -0.05, 0.05));
}

int64_t GraphBuilder::dim(const Tensor& t, int64_t axis) {
  int64_t rank = static_cast<int64_t>(t->shape.size());
  if (axis < 0) axis += rank;
  TM_USER_CHECK(t->type_known && axis >= 0 && axis < rank && t->shape[axis].is_known())
      << "graph builder: tensor '" << t->name << "' has no known dimension " << axis;
  return t->shape[axis].size();
}

}  // namespace taskmap::graph
