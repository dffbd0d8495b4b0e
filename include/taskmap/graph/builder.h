#pragma once
// The graph-builder API: models written in C++ as ONNX-typed operators (so any built graph can be
// saved as ONNX and compared with other runtimes).
//
//   GraphBuilder b("tiny", /*seed=*/1);
//   Tensor x = b.input("x", ir::f32, {1, 3, 32, 32});
//   Tensor y = b.relu(b.conv2d(x, b.weight({8, 3, 3, 3}), b.weight({8}), {.pads = {1, 1, 1, 1}}));
//   b.output(b.global_average_pool(y));
//   Graph g = b.build();
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "taskmap/graph/graph.h"

namespace taskmap::graph {

struct ConvAttrs {
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> pads = {0, 0, 0, 0};  // begins then ends, as ONNX
  std::vector<int64_t> dilations = {1, 1};
  int64_t group = 1;
};

struct PoolAttrs {
  std::vector<int64_t> kernel = {2, 2};
  std::vector<int64_t> strides = {2, 2};
  std::vector<int64_t> pads = {0, 0, 0, 0};
  bool count_include_pad = false;  // AveragePool only
};

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name, uint64_t seed = 0);

  Tensor input(const std::string& name, ir::DType dtype, Shape shape);
  void output(const Tensor& t, const std::string& name = "");
  Graph build();  // validates; the builder must not be used afterwards

  // Constants.
  Tensor constant(NDArray value, const std::string& name = "");
  Tensor scalar(double value, ir::DType dtype = ir::f32);
  Tensor ints(const std::vector<int64_t>& values);  // a 1-D i64 constant
  // Seeded random weights, normal with standard deviation `scale` (default: 1/sqrt(fan-in),
  // fan-in = product of all dims but the first, or the only dim).
  Tensor weight(const std::vector<int64_t>& shape, double scale = 0);
  // Seeded values uniform in [lo, hi) (BatchNorm variances, gammas).
  Tensor uniform(const std::vector<int64_t>& shape, double lo, double hi);

  // Any operator: ONNX type, inputs (nullptr for omitted optional ones), attributes.
  std::vector<Tensor> op(const std::string& type, const std::vector<Tensor>& inputs,
                         std::map<std::string, AttrValue> attrs = {}, int num_outputs = 1);
  Tensor op1(const std::string& type, const std::vector<Tensor>& inputs,
             std::map<std::string, AttrValue> attrs = {});

  // Typed helpers for what the bundled models use.
  Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvAttrs& attrs = {});
  // Random statistics: gamma uniform in [0.5, 1.5) times `gamma_scale`, beta and mean in
  // [-0.1, 0.1), variance in [0.5, 1.5). A small `gamma_scale` keeps residual sums O(1).
  Tensor batch_norm(const Tensor& x, double epsilon = 1e-5, double gamma_scale = 1.0);
  Tensor relu(const Tensor& x) { return op1("Relu", {x}); }
  Tensor relu6(const Tensor& x);
  Tensor add(const Tensor& a, const Tensor& b) { return op1("Add", {a, b}); }
  Tensor mul(const Tensor& a, const Tensor& b) { return op1("Mul", {a, b}); }
  Tensor matmul(const Tensor& a, const Tensor& b) { return op1("MatMul", {a, b}); }
  Tensor gemm(const Tensor& a, const Tensor& w, const Tensor& bias, bool trans_b = true);
  Tensor max_pool(const Tensor& x, const PoolAttrs& attrs);
  Tensor average_pool(const Tensor& x, const PoolAttrs& attrs);
  Tensor global_average_pool(const Tensor& x) { return op1("GlobalAveragePool", {x}); }
  Tensor flatten(const Tensor& x, int64_t axis = 1);
  Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape);
  Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm);
  Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
  Tensor softmax(const Tensor& x, int64_t axis = -1);
  Tensor layer_norm(const Tensor& x, int64_t features, double epsilon = 1e-5);
  Tensor gelu(const Tensor& x);  // x * 0.5 * (1 + erf(x / sqrt(2))), as opset-17 exporters write it
  // GPT-2's approximation: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))).
  Tensor gelu_tanh(const Tensor& x);
  Tensor gather(const Tensor& data, const Tensor& indices, int64_t axis = 0);
  // x @ W + b with W [in, out] random, for transformer blocks.
  Tensor linear(const Tensor& x, int64_t in, int64_t out);

  // The size of `t`'s dimension `axis` (negative counts from the end); a UserError when the
  // shape is not known yet.
  static int64_t dim(const Tensor& t, int64_t axis);

 private:
  std::string fresh(const std::string& prefix);

  Graph graph_;
  std::mt19937_64 rng_;
  std::map<std::string, int> counters_;
};

}  // namespace taskmap::graph
