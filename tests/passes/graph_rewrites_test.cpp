// Graph rewrite tests: a small graph written with the graph builder -> one rewrite -> the operator
// histogram changed as expected, and the rewritten graph computes what the original computes on
// random inputs (both evaluated operator by operator; the original also through Model, which
// applies every rewrite and fuses kernels).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <random>
#include <unordered_map>

#include "graph_support.h"
#include "taskmap/graph/builder.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/rewrites.h"
#include "taskmap/graph/run_operator.h"
#include "taskmap/graph/specialize.h"
#include "taskmap/model.h"
#include "taskmap/models.h"

namespace taskmap::graph {
namespace {

using namespace support;

// `rewritten` computes what `original` computes, and so does Model(original).
void expect_same_outputs(const Graph& original, const Graph& rewritten, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::vector<NDArray> inputs;
  for (const Tensor& t : original.inputs) inputs.push_back(random_array(t, rng));
  std::vector<NDArray> expected = evaluate(original, inputs);
  expect_close(evaluate(rewritten, inputs), expected, "rewritten graph");
  expect_close(Model(original).run(inputs), expected, "Model of the original graph");
}

// ---- remove_noops ----------------------------------------------------------------------------

TEST(RemoveNoops, DropsCopiesAndRewiresTheirReaders) {
  GraphBuilder b("noops", 1);
  Tensor x = b.input("x", ir::f32, {2, 3, 4});
  Tensor y = b.op1("Identity", {x});
  y = b.op("Dropout", {y}, {}, 2)[0];
  y = b.reshape(y, {2, 3, 4});
  y = b.transpose(y, {0, 1, 2});
  y = b.op1("Cast", {y}, {{"to", int64_t{1}}});  // f32 to f32
  y = b.relu(y);
  y = b.transpose(b.reshape(y, {3, 2, 4}), {1, 0, 2});  // real: stay
  b.output(b.op1("Identity", {y}), "out");              // writes a graph output: stays
  Graph g = specialized(b.build());
  Graph r = remove_noops(g);
  EXPECT_EQ(histogram(r),
            (Histogram{{"Relu", 1}, {"Reshape", 1}, {"Transpose", 1}, {"Identity", 1}}));
  EXPECT_EQ(r.outputs[0]->name, "out");
  expect_same_outputs(g, r);
}

TEST(RemoveNoops, ReturnsTheSameGraphWhenNothingMatches) {
  GraphBuilder b("relu", 1);
  b.output(b.relu(b.input("x", ir::f32, {4})));
  Graph g = specialized(b.build());
  Graph r = remove_noops(g);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].get(), g.ops[0].get());
}

// ---- widen_convolutions -----------------------------------------------------------------------

TEST(WidenConvolutions, UnpaddedStrideOneConvsBecomeWideConvPlusSlice) {
  GraphBuilder b("valid_convs", 3);
  Tensor x = b.input("x", ir::f32, {1, 3, 31, 31});
  // Unpadded 3x3 (31 -> 29 wide), then top/left-only padding with dilation (29 -> 28).
  Tensor y = b.relu(b.conv2d(x, b.weight({8, 3, 3, 3}), b.uniform({8}, 0.1, 0.5)));
  y = b.conv2d(y, b.weight({4, 8, 2, 2}), nullptr, {.pads = {1, 1, 0, 0}, .dilations = {2, 2}});
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = widen_convolutions(g);
  EXPECT_EQ(histogram(r), (Histogram{{"Conv", 2}, {"Slice", 2}, {"Relu", 1}}));
  std::vector<std::vector<int64_t>> pads;
  for (const Operator& op : r.ops) {
    if (op->type != "Conv") continue;
    pads.push_back(std::get<std::vector<int64_t>>(op->attrs.at("pads")));
    // The widened output is as wide as the input.
    EXPECT_EQ(op->outputs[0]->shape[3], op->inputs[0]->shape[3]);
  }
  EXPECT_EQ(pads, (std::vector<std::vector<int64_t>>{{0, 0, 0, 2}, {1, 1, 0, 1}}));
  expect_same_outputs(g, r);
}

TEST(WidenConvolutions, LeavesSameWidthStridedAndNarrowImages) {
  GraphBuilder b("other_convs", 4);
  Tensor x = b.input("x", ir::f32, {1, 3, 12, 12});
  Tensor y = b.conv2d(x, b.weight({8, 3, 3, 3}), nullptr, {.pads = {1, 1, 1, 1}});  // same width
  y = b.conv2d(y, b.weight({8, 8, 3, 3}), nullptr, {.strides = {2, 2}});            // stride 2
  y = b.conv2d(y, b.weight({8, 8, 3, 3}), nullptr);  // 5 -> 3: 67% more work if widened
  b.output(y);
  Graph g = specialized(b.build());
  EXPECT_EQ(widen_convolutions(g).ops.size(), g.ops.size());
}

// ---- channels_last ---------------------------------------------------------------------------

int count_in(const Graph& g, const std::string& type, const std::string& domain) {
  int n = 0;
  for (const Operator& op : g.ops) n += op->type == type && op->domain == domain;
  return n;
}

TEST(ChannelsLast, ConvolutionChainRunsChannelsLastWithTransposesAtItsEdges) {
  GraphBuilder b("nhwc_chain", 5);
  Tensor x = b.input("x", ir::f32, {1, 16, 9, 11});
  // 3x3 padded -> Relu -> 1x1 + residual, then a MaxPool, a scaling and a Concat along the
  // channels before a Flatten (which needs NCHW), and a Pad and AveragePool (all channels last
  // but the Flatten).
  Tensor a = b.relu(
      b.conv2d(x, b.weight({64, 16, 3, 3}), b.uniform({64}, 0.1, 0.5), {.pads = {1, 1, 1, 1}}));
  Tensor c = b.add(b.conv2d(a, b.weight({64, 64, 1, 1}), nullptr), a);
  Tensor mx = b.max_pool(c, {.kernel = {3, 3}, .strides = {1, 1}, .pads = {1, 1, 1, 1}});
  Tensor cat = b.concat({b.mul(mx, b.scalar(0.5)), b.relu(c)}, 1);
  Tensor padded = b.op1("Pad", {c, b.ints({0, 0, 1, 1, 0, 0, 1, 1})});
  b.output(b.flatten(cat));
  b.output(b.average_pool(padded, {.kernel = {3, 3}, .strides = {1, 1}}));
  b.output(c);  // a graph output produced channels last
  Graph g = specialized(b.build());
  Graph r = channels_last(g);
  r.validate();
  EXPECT_EQ(count_in(r, "NhwcConv", kTaskmapDomain), 2);
  EXPECT_EQ(count_in(r, "NhwcMaxPool", kTaskmapDomain), 1);
  EXPECT_EQ(count_in(r, "NhwcAveragePool", kTaskmapDomain), 1);
  EXPECT_EQ(count_in(r, "Conv", ""), 0);
  // In: the image; out: the Concat (for the Flatten), the average pool and c (graph outputs).
  EXPECT_EQ(count(r, "Transpose"), 4);
  for (const Operator& op : r.ops) {
    if (op->type == "Pad") {
      // [0, 0, 1, 1] (N, C, H, W begins) becomes [0, 1, 1, 0] (N, H, W, C).
      EXPECT_EQ(op->inputs[1]->constant.data<int64_t>()[1], 1) << "pads permuted to NHWC";
      EXPECT_EQ(op->inputs[1]->constant.data<int64_t>()[3], 0) << "pads permuted to NHWC";
    }
  }
  for (const Operator& op : r.ops) {
    if (op->type == "Concat") {
      EXPECT_EQ(std::get<int64_t>(op->attrs.at("axis")), 3);
    }
  }
  // Graph inputs and outputs keep their names and shapes.
  ASSERT_EQ(r.outputs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.outputs[i]->name, g.outputs[i]->name);
    EXPECT_EQ(r.outputs[i]->shape, g.outputs[i]->shape);
  }
  expect_same_outputs(g, r);
}

TEST(ChannelsLast, LeavesNarrowGroupedAndNeighbouringConvolutions) {
  GraphBuilder b("nchw_convs", 6);
  Tensor x = b.input("x", ir::f32, {1, 3, 8, 8});
  Tensor y = b.conv2d(x, b.weight({8, 3, 3, 3}), nullptr);             // 8 channels of 16 columns
  y = b.relu(b.conv2d(y, b.weight({64, 8, 1, 1}), nullptr));           // its image stays NCHW
  y = b.conv2d(y, b.weight({64, 2, 3, 3}), nullptr, {.group = 32});    // grouped, not depthwise
  y = b.relu(b.conv2d(b.relu(y), b.weight({32, 64, 1, 1}), nullptr));  // after the grouped one
  b.output(y);
  Graph g = specialized(b.build());
  EXPECT_EQ(channels_last(g).ops.size(), g.ops.size());
  EXPECT_EQ(count_in(channels_last(g), "NhwcConv", kTaskmapDomain), 0);

  // The same 1x1 convolutions with a 32-channel image from the graph input convert.
  GraphBuilder c("nhwc_convs", 6);
  Tensor z = c.input("z", ir::f32, {1, 32, 8, 8});
  z = c.relu(c.conv2d(z, c.weight({64, 32, 1, 1}), nullptr));
  c.output(c.relu(c.conv2d(z, c.weight({32, 64, 1, 1}), nullptr)));
  EXPECT_EQ(count_in(channels_last(specialized(c.build())), "NhwcConv", kTaskmapDomain), 2);
}

// The channels-last compile of `g` computes what its NCHW compile does, on random inputs.
void expect_compiles_as_nchw(const Graph& g, uint64_t seed) {
  ModelOptions nchw;
  nchw.channels_last = false;
  std::mt19937_64 rng(seed);
  std::vector<NDArray> inputs;
  for (const Tensor& t : g.inputs) inputs.push_back(random_array(t, rng));
  expect_close(Model(g).run(inputs), Model(g, nchw).run(inputs), "channels last vs NCHW");
}

// A stem's padding (3 channels) becomes a Pad of its image, so that the GEMM template reads the
// unpadded window in place; the compile agrees with the NCHW one.
TEST(ChannelsLast, StemPadsItsImageExplicitly) {
  GraphBuilder b("stem", 10);
  Tensor x = b.input("x", ir::f32, {1, 3, 19, 19});
  Tensor y = b.relu(b.conv2d(x, b.weight({64, 3, 7, 7}), b.uniform({64}, -0.1, 0.1),
                             {.strides = {2, 2}, .pads = {3, 3, 3, 3}}));
  b.output(b.max_pool(y, {.kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}}));
  Graph g = specialized(b.build());
  Graph r = channels_last(g);
  r.validate();
  EXPECT_EQ(count(r, "Pad"), 1);
  for (const Operator& op : r.ops) {
    if (op->type == "NhwcConv") {
      EXPECT_EQ(op->attrs.count("pads"), 0u) << "the padding moved to the Pad";
      EXPECT_EQ(op->inputs[0]->shape, to_shape({1, 25, 25, 3}));
    }
  }
  expect_same_outputs(g, r);
  expect_compiles_as_nchw(g, 13);
}

// MobileNetV2's blocks run channels last end to end: the depthwise layers as
// NhwcDepthwiseConv with their weights transposed to [kh, kw, C], the narrow projections
// (16 and 24 channels) as NhwcConv, so that only the graph's edges transpose.
TEST(ChannelsLast, DepthwiseBlocksRunChannelsLast) {
  GraphBuilder b("mobile_blocks", 9);
  Tensor x = b.input("x", ir::f32, {1, 16, 13, 13});
  Tensor e = b.relu6(b.conv2d(x, b.weight({96, 16, 1, 1}), b.uniform({96}, -0.1, 0.1)));
  Tensor d = b.relu6(b.conv2d(e, b.weight({96, 1, 3, 3}), b.uniform({96}, -0.1, 0.1),
                              {.strides = {2, 2}, .pads = {1, 1, 1, 1}, .group = 96}));
  Tensor p = b.conv2d(d, b.weight({24, 96, 1, 1}), nullptr);
  e = b.relu6(b.conv2d(p, b.weight({144, 24, 1, 1}), nullptr));
  d = b.relu6(b.conv2d(e, b.weight({144, 1, 3, 3}), nullptr, {.pads = {1, 1, 1, 1}, .group = 144}));
  b.output(b.add(b.conv2d(d, b.weight({24, 144, 1, 1}), nullptr), p));
  Graph g = specialized(b.build());
  Graph r = channels_last(g);
  r.validate();
  EXPECT_EQ(count_in(r, "NhwcDepthwiseConv", kTaskmapDomain), 2);
  EXPECT_EQ(count_in(r, "NhwcConv", kTaskmapDomain), 4);
  EXPECT_EQ(count(r, "Transpose"), 2);  // the input and the output
  for (const Operator& op : r.ops) {
    if (op->type == "NhwcDepthwiseConv") {
      const NDArray& w = op->inputs[1]->constant;
      ASSERT_EQ(w.shape().size(), 3u);
      EXPECT_EQ(w.shape()[0], 3);
      EXPECT_EQ(w.shape()[1], 3);
    }
  }
  expect_same_outputs(g, r);
  expect_compiles_as_nchw(g, 12);
}

// The channels-last compile of a model agrees with the NCHW one (every template path the
// layout changes: 1x1 in place, 3x3 and strided windows packed as rows, the pools).
TEST(ChannelsLast, CompiledModelAgreesWithTheNchwCompile) {
  GraphBuilder b("nhwc_model", 8);
  Tensor x = b.input("x", ir::f32, {1, 32, 15, 15});
  Tensor y = b.relu(b.conv2d(x, b.weight({64, 32, 3, 3}), b.uniform({64}, 0.1, 0.5),
                             {.strides = {2, 2}, .pads = {1, 1, 1, 1}}));
  Tensor r = b.conv2d(y, b.weight({128, 64, 1, 1}), nullptr, {.strides = {2, 2}});
  y = b.relu(b.conv2d(y, b.weight({64, 64, 3, 3}), nullptr, {.pads = {1, 1, 1, 1}}));
  y = b.relu(b.add(b.conv2d(y, b.weight({128, 64, 1, 1}), nullptr, {.strides = {2, 2}}), r));
  y = b.max_pool(y, {.kernel = {2, 2}, .strides = {1, 1}});
  b.output(b.flatten(b.global_average_pool(y)));
  b.output(y);
  // A padded average pool, its divisor counting only the positions inside the image.
  b.output(b.relu(b.average_pool(y, {.kernel = {3, 3}, .strides = {2, 1}, .pads = {1, 1, 1, 0}})));
  Graph g = b.build();
  ModelOptions nchw;
  nchw.channels_last = false;
  std::mt19937_64 rng(11);
  std::vector<NDArray> inputs = {random_array(g.inputs[0], rng)};
  // The padded average pool and the global one (a window over the whole image).
  EXPECT_EQ(count_in(channels_last(specialized(g)), "NhwcAveragePool", kTaskmapDomain), 2);
  EXPECT_EQ(count_in(channels_last(specialized(g)), "NhwcMaxPool", kTaskmapDomain), 1);
  EXPECT_EQ(count(channels_last(specialized(g)), "GlobalAveragePool"), 0);
  Model channels_last_model(g), nchw_model(g, nchw);
  EXPECT_GT(channels_last_model.plan_only(channels_last_model.default_bindings()).kernels, 0);
  expect_close(channels_last_model.run(inputs), nchw_model.run(inputs), "channels last vs NCHW");
}

// ---- fold_batch_norm -------------------------------------------------------------------------

TEST(FoldBatchNorm, ConvWithAndWithoutBiasAbsorbsTheBatchNorm) {
  GraphBuilder b("conv_bn", 2);
  Tensor x = b.input("x", ir::f32, {1, 3, 9, 9});
  Tensor y = b.batch_norm(b.conv2d(x, b.weight({8, 3, 3, 3}), b.uniform({8}, 0.1, 0.5),
                                   {.strides = {2, 2}, .pads = {1, 1, 1, 1}}),
                          1e-3);
  y = b.relu(y);
  // Depthwise, no bias.
  y = b.batch_norm(b.conv2d(y, b.weight({8, 1, 3, 3}), nullptr, {.group = 8}));
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = fold_batch_norm(g);
  EXPECT_EQ(histogram(r), (Histogram{{"Conv", 2}, {"Relu", 1}}));
  for (const Operator& op : r.ops) {
    if (op->type != "Conv") continue;
    EXPECT_EQ(op->inputs.size(), 3u) << "the folded bias";
  }
  expect_same_outputs(g, r);
  // The input graph is untouched.
  EXPECT_EQ(count(g, "BatchNormalization"), 2);
  EXPECT_EQ(g.ops[1]->inputs[0].get(), g.ops[0]->outputs[0].get());
}

TEST(FoldBatchNorm, GemmAndMatMulAbsorbTheBatchNorm) {
  GraphBuilder b("gemm_bn", 3);
  Tensor x = b.input("x", ir::f32, {4, 16});
  Tensor y = b.batch_norm(b.gemm(x, b.weight({8, 16}), b.uniform({8}, 0.1, 0.5)));
  y = b.batch_norm(b.matmul(b.relu(y), b.weight({8, 5})));
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = fold_batch_norm(g);
  EXPECT_EQ(histogram(r), (Histogram{{"Gemm", 2}, {"Relu", 1}}));
  expect_same_outputs(g, r);
}

TEST(FoldBatchNorm, LeavesAConvWhoseOutputIsAlsoReadElsewhere) {
  GraphBuilder b("shared", 4);
  Tensor x = b.input("x", ir::f32, {1, 4, 6, 6});
  Tensor c = b.conv2d(x, b.weight({4, 4, 1, 1}), nullptr);
  b.output(b.add(b.batch_norm(c), c));
  Graph g = specialized(b.build());
  Graph r = fold_batch_norm(g);
  EXPECT_EQ(histogram(r), histogram(g));
  EXPECT_EQ(count(r, "BatchNormalization"), 1);
}

// ---- recognize_gelu --------------------------------------------------------------------------

// The GELU spellings ONNX exporters use (besides GraphBuilder::gelu and gelu_tanh).
Tensor gelu_erf_mul_form(GraphBuilder& b, const Tensor& x) {
  // (x * 0.5) * (1 + erf(x * (1 / sqrt(2))))
  Tensor erf = b.op1("Erf", {b.mul(b.scalar(1 / std::numbers::sqrt2), x)});
  return b.mul(b.mul(b.scalar(0.5), x), b.add(b.scalar(1.0), erf));
}

Tensor gelu_tanh_pow_form(GraphBuilder& b, const Tensor& x) {
  // 0.5 * x * (1 + tanh(0.7978845834732056 * (x + 0.044715 * x^3)))  (Hugging Face's GPT-2)
  Tensor cube = b.op1("Pow", {x, b.scalar(3.0)});
  Tensor inner = b.add(x, b.mul(b.scalar(0.044715), cube));
  Tensor t = b.op1("Tanh", {b.mul(b.scalar(0.7978845834732056), inner)});
  return b.mul(b.mul(b.scalar(0.5), x), b.add(b.scalar(1.0), t));
}

TEST(RecognizeGelu, ErfFormsBecomeGelu) {
  GraphBuilder b("gelu_erf", 5);
  Tensor x = b.input("x", ir::f32, {2, 3, 8});
  Tensor y = b.gelu(b.add(x, b.uniform({8}, -0.5, 0.5)));
  y = gelu_erf_mul_form(b, b.mul(y, b.uniform({8}, 0.5, 1.5)));
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = recognize_gelu(g);
  EXPECT_EQ(histogram(r), (Histogram{{"Add", 1}, {"Mul", 1}, {"Gelu", 2}}));
  for (const Operator& op : r.ops) {
    if (op->type != "Gelu") continue;
    EXPECT_TRUE(op->attrs.empty());
  }
  expect_same_outputs(g, r);
}

TEST(RecognizeGelu, TanhFormsBecomeGeluWithTanhApproximation) {
  GraphBuilder b("gelu_tanh", 6);
  Tensor x = b.input("x", ir::f32, {4, 16});
  Tensor y = b.gelu_tanh(b.matmul(x, b.weight({16, 16})));
  y = gelu_tanh_pow_form(b, b.matmul(y, b.weight({16, 8})));
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = recognize_gelu(g);
  EXPECT_EQ(histogram(r), (Histogram{{"MatMul", 2}, {"Gelu", 2}}));
  for (const Operator& op : r.ops) {
    if (op->type != "Gelu") continue;
    ASSERT_EQ(op->attrs.count("approximate"), 1u);
    EXPECT_EQ(std::get<std::string>(op->attrs.at("approximate")), "tanh");
    EXPECT_EQ(op->opset, 0) << "valid whatever opset the model declares";
  }
  expect_same_outputs(g, r);
}

TEST(RecognizeGelu, LeavesAGeluWhoseIntermediateIsAlsoRead) {
  GraphBuilder b("gelu_shared", 7);
  Tensor x = b.input("x", ir::f32, {8});
  Tensor erf = b.op1("Erf", {b.op1("Div", {x, b.scalar(std::numbers::sqrt2)})});
  Tensor y = b.mul(b.mul(x, b.add(erf, b.scalar(1.0))), b.scalar(0.5));
  b.output(b.add(y, erf));  // erf is read outside the GELU
  Graph g = specialized(b.build());
  EXPECT_EQ(count(recognize_gelu(g), "Gelu"), 0);

  GraphBuilder c("gelu_wrong_constant", 7);
  Tensor z = c.input("z", ir::f32, {8});
  Tensor half = c.mul(c.mul(z, c.scalar(0.5)),
                      c.add(c.op1("Erf", {c.op1("Div", {z, c.scalar(1.5)})}), c.scalar(1.0)));
  c.output(half);
  EXPECT_EQ(count(recognize_gelu(specialized(c.build())), "Gelu"), 0);
}

// ---- recognize_layer_norm --------------------------------------------------------------------

struct LayerNormSpelling {
  bool scale = true, bias = true;
  bool axes_input = false;  // opset 18: ReduceMean takes its axes as an input
  double epsilon = 1e-5;
};

// LayerNorm over the last axis as opset-13 exporters write it.
Tensor decomposed_layer_norm(GraphBuilder& b, const Tensor& x, const LayerNormSpelling& s) {
  int64_t features = GraphBuilder::dim(x, -1);
  auto mean = [&](const Tensor& t) {
    if (s.axes_input) return b.op1("ReduceMean", {t, b.ints({-1})});
    return b.op1("ReduceMean", {t}, {{"axes", std::vector<int64_t>{-1}}});
  };
  Tensor centered = b.op1("Sub", {x, mean(x)});
  Tensor variance = mean(b.op1("Pow", {centered, b.scalar(2.0)}));
  Tensor std_dev = b.op1("Sqrt", {b.add(variance, b.scalar(s.epsilon))});
  Tensor y = b.op1("Div", {centered, std_dev});
  if (s.scale) y = b.mul(y, b.uniform({features}, 0.5, 1.5));
  if (s.bias) y = b.add(b.uniform({features}, -0.5, 0.5), y);
  return y;
}

TEST(RecognizeLayerNorm, DecomposedFormsBecomeLayerNormalization) {
  GraphBuilder b("layer_norm", 8);
  Tensor x = b.input("x", ir::f32, {2, 5, 16});
  Tensor y = decomposed_layer_norm(b, x, {});
  y = decomposed_layer_norm(b, b.relu(y), {.scale = false, .axes_input = true, .epsilon = 1e-3});
  y = decomposed_layer_norm(b, b.relu(y), {.bias = false});
  b.output(y);
  Graph g = specialized(b.build());
  Graph r = recognize_layer_norm(g);
  EXPECT_EQ(histogram(r), (Histogram{{"LayerNormalization", 3}, {"Relu", 2}}));
  std::vector<double> epsilons;
  for (const Operator& op : r.ops)
    if (op->type == "LayerNormalization")
      epsilons.push_back(std::get<double>(op->attrs["epsilon"]));
  ASSERT_EQ(epsilons.size(), 3u);  // the constants are f32
  EXPECT_FLOAT_EQ(epsilons[0], 1e-5f);
  EXPECT_FLOAT_EQ(epsilons[1], 1e-3f);
  EXPECT_FLOAT_EQ(epsilons[2], 1e-5f);
  expect_same_outputs(g, r);
}

// mean((x - mean(x))^2) over `axis`, and the normalized x; `std_dev` also returned.
struct Normalized {
  Tensor variance, std_dev, y;
};
Normalized normalize_over(GraphBuilder& b, const Tensor& x, int64_t axis) {
  std::map<std::string, AttrValue> axes = {{"axes", std::vector<int64_t>{axis}}};
  Tensor centered = b.op1("Sub", {x, b.op1("ReduceMean", {x}, axes)});
  Tensor variance = b.op1("ReduceMean", {b.op1("Pow", {centered, b.scalar(2.0)})}, axes);
  Tensor std_dev = b.op1("Sqrt", {b.add(variance, b.scalar(1e-5))});
  return {variance, std_dev, b.op1("Div", {centered, std_dev})};
}

TEST(RecognizeLayerNorm, LeavesOtherAxesAndSharedIntermediates) {
  GraphBuilder b("not_layer_norm", 9);
  Tensor x = b.input("x", ir::f32, {4, 6});
  b.output(normalize_over(b, x, 0).y);  // not LayerNormalization's axis -1
  Normalized shared = normalize_over(b, x, -1);
  b.output(b.add(shared.y, shared.std_dev));  // the standard deviation has a second reader
  Normalized output = normalize_over(b, x, 1);
  b.output(output.y);
  b.output(output.variance);  // the variance is a graph output
  Graph g = specialized(b.build());
  Graph r = recognize_layer_norm(g);
  EXPECT_EQ(count(r, "LayerNormalization"), 0);
  EXPECT_EQ(r.ops.size(), g.ops.size());

  GraphBuilder c("layer_norm_control", 9);  // the same with nothing shared: recognized
  Tensor z = c.input("z", ir::f32, {4, 6});
  c.output(normalize_over(c, z, 1).y);
  EXPECT_EQ(histogram(recognize_layer_norm(specialized(c.build()))),
            (Histogram{{"LayerNormalization", 1}}));
}

// ---- winograd_convolutions ------------------------------------------------------------------

// The tile sizes of the WinogradInput operators, in graph order.
std::vector<int64_t> winograd_tiles(const Graph& g) {
  std::vector<int64_t> tiles;
  for (const Operator& op : g.ops)
    if (op->type == "WinogradInput") tiles.push_back(std::get<int64_t>(op->attrs.at("tile")));
  return tiles;
}

TEST(WinogradConvolutions, ThreeByThreeConvsBecomeTransformsAroundABatchedMatMul) {
  GraphBuilder b("winograd_convs", 11);
  Tensor x = b.input("x", ir::f32, {1, 24, 30, 29});
  // Padded on all sides (30 x 29: the last tiles overhang the output), then unevenly padded
  // with a residual Add after it; a 12 x 12 image has 36 tiles of 2 x 2 but 9 of 4 x 4.
  Tensor y = b.relu(
      b.conv2d(x, b.weight({32, 24, 3, 3}), b.uniform({32}, 0.1, 0.5), {.pads = {1, 1, 1, 1}}));
  Tensor z = b.conv2d(y, b.weight({32, 32, 3, 3}), nullptr, {.pads = {2, 0, 0, 2}});
  z = b.relu(b.add(z, y));
  Tensor small = b.max_pool(z, {.kernel = {2, 2}, .strides = {2, 2}, .pads = {0, 0, 1, 1}});
  b.output(
      b.conv2d(small, b.weight({16, 32, 3, 3}), b.uniform({16}, 0.1, 0.5), {.pads = {1, 1, 1, 1}}));
  Graph g = specialized(b.build());
  Graph r = winograd_convolutions(channels_last(g));
  r.validate();
  EXPECT_EQ(count(r, "NhwcConv"), 0);
  EXPECT_EQ(count(r, "WinogradOutput"), 3);
  EXPECT_EQ(count(r, "MatMul"), 3);
  EXPECT_EQ(winograd_tiles(r), (std::vector<int64_t>{4, 4, 2}));
  for (const Operator& op : r.ops) {
    if (op->type != "MatMul") continue;
    // The transformed weight U [α², C, O] is a constant.
    ASSERT_TRUE(op->inputs[1]->is_constant());
    EXPECT_EQ(op->inputs[1]->constant.rank(), 3);
  }
  expect_same_outputs(g, r);
}

TEST(WinogradConvolutions, LeavesOtherConvolutionsDirect) {
  GraphBuilder b("direct_convs", 12);
  Tensor x = b.input("x", ir::f32, {1, 32, 20, 20});
  Tensor y = b.conv2d(x, b.weight({32, 32, 3, 3}), nullptr, {.strides = {2, 2}});  // stride 2
  Tensor d = b.conv2d(x, b.weight({32, 32, 3, 3}), nullptr, {.dilations = {2, 2}});
  Tensor f = b.conv2d(x, b.weight({32, 32, 5, 5}), nullptr);  // not 3 x 3
  Tensor t = b.conv2d(x, b.weight({8, 32, 3, 3}), nullptr);   // 8 output channels
  Tensor s = b.conv2d(y, b.weight({32, 32, 3, 3}), nullptr, {.pads = {1, 1, 1, 1}});  // 9 x 9
  for (const Tensor& out : {d, f, t, s}) b.output(out);
  Graph g = channels_last(specialized(b.build()));
  EXPECT_GE(count(g, "NhwcConv"), 4);  // the 8-channel one may stay NCHW
  Graph r = winograd_convolutions(g);
  EXPECT_EQ(histogram(r), histogram(g));
}

// ---- simplify_graph on the bundled models ----------------------------------------------------

Graph simplified_model(const std::string& name) {
  return simplify_graph(specialized(models::build_model(name)));
}

TEST(SimplifyGraph, ResNet50HasNoBatchNormLeft) {
  Graph g = simplified_model("resnet50");
  EXPECT_EQ(count(g, "BatchNormalization"), 0);
  // All 53 channels last; the 11 stride-1 3 x 3 ones on images of 14 x 14 or more by Winograd
  // (the 7 x 7 ones and the stride-2 ones stay direct).
  EXPECT_EQ(count(g, "NhwcConv"), 42);
  EXPECT_EQ(count(g, "WinogradInput"), 11);
  EXPECT_EQ(count(g, "WinogradOutput"), 11);
  EXPECT_EQ(count(g, "Conv"), 0);
}

TEST(SimplifyGraph, Gpt2GelusBecomeTanhGelu) {
  Graph g = simplified_model("gpt2_small");
  EXPECT_EQ(count(g, "Gelu"), 12);
  EXPECT_EQ(count(g, "Tanh"), 0);
  EXPECT_EQ(count(g, "Pow"), 0);
  for (const Operator& op : g.ops) {
    if (op->type != "Gelu") continue;
    EXPECT_EQ(std::get<std::string>(op->attrs.at("approximate")), "tanh");
  }
}

TEST(SimplifyGraph, BertGelusBecomeGelu) {
  Graph g = simplified_model("bert_base");
  EXPECT_EQ(count(g, "Gelu"), 12);
  EXPECT_EQ(count(g, "Erf"), 0);
}

}  // namespace
}  // namespace taskmap::graph
