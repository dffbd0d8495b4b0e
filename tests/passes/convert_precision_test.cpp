// convert_precision: which operators narrow to f16 / bf16 and which keep f32, the Casts at the
// edges and between the two, and that the narrowed graph computes what the f32 graph computes up
// to the narrow type's rounding (evaluated operator by operator, and compiled through Model).
#include <gtest/gtest.h>

#include <random>

#include "graph_support.h"
#include "taskmap/error.h"
#include "taskmap/graph/builder.h"
#include "taskmap/graph/rewrites.h"
#include "taskmap/model.h"

namespace taskmap::graph {
namespace {

using namespace support;

// A transformer-like block: a projection with a bias, GELU, layer norm, softmax; an integer path
// (Shape -> Cast to float) joining the float one; a second output read straight off the input.
Graph block() {
  GraphBuilder b("block", /*seed=*/5);
  Tensor x = b.input("x", ir::f32, {6, 32});
  Tensor y = b.add(b.matmul(x, b.weight({32, 48})), b.weight({48}, 1.0));
  y = b.layer_norm(b.gelu(y), 48);
  Tensor rows = b.op1("Cast", {b.op1("Shape", {x})}, {{"to", int64_t{1}}});  // [6, 32] as floats
  Tensor scale = b.op1("ReduceMax", {rows}, {{"keepdims", int64_t{0}}});
  b.output(b.softmax(b.mul(y, scale)), "probs");
  b.output(b.relu(x), "relu");
  // As the model compiles it for a GPU: GELU and layer norm recognized.
  return simplify_graph(specialized(b.build()), RewriteOptions::for_cuda());
}

// The tensors operators of `type` read, over the whole graph.
std::vector<Tensor> inputs_of(const Graph& g, const std::string& type) {
  std::vector<Tensor> inputs;
  for (const Operator& op : g.ops)
    if (op->type == type)
      for (const Tensor& t : op->inputs)
        if (t) inputs.push_back(t);
  return inputs;
}

std::vector<NDArray> random_inputs(const Graph& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NDArray> inputs;
  for (const Tensor& t : g.inputs) inputs.push_back(random_array(t, rng));
  return inputs;
}

class ConvertPrecision : public ::testing::TestWithParam<const char*> {
 protected:
  ir::DType narrow() const { return std::string(GetParam()) == "f16" ? ir::f16 : ir::bf16; }
  // The narrow type's relative rounding error (half an ulp), a few roundings deep.
  double tolerance() const { return narrow() == ir::f16 ? 8e-3 : 6e-2; }
};

TEST_P(ConvertPrecision, FloatOperatorsNarrowAndTheEdgesStayF32) {
  const Graph g = block();
  const Graph r = convert_precision(g, narrow());
  // The edges: same names and types, a Cast after the input and before each output.
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0]->name, "x");
  EXPECT_EQ(r.inputs[0]->dtype, ir::f32);
  ASSERT_EQ(r.outputs.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(r.outputs[k]->name, g.outputs[k]->name);
    EXPECT_EQ(r.outputs[k]->dtype, ir::f32);
    ASSERT_NE(r.outputs[k]->producer, nullptr);
    EXPECT_EQ(r.outputs[k]->producer->type, "Cast");
  }
  // The input is cast once though three operators read it (MatMul, Shape, Relu).
  EXPECT_EQ(count(r, "Cast"), count(g, "Cast") + 1 + 2);
  // Every float the computing operators read is narrow, the weights converted at compile time.
  for (const char* type : {"MatMul", "Add", "Gelu", "LayerNormalization", "Softmax", "Mul"}) {
    SCOPED_TRACE(type);
    const std::vector<Tensor> inputs = inputs_of(r, type);
    ASSERT_FALSE(inputs.empty());
    for (const Tensor& t : inputs) EXPECT_EQ(t->dtype, narrow()) << t->name;
  }
  for (const Tensor& t : inputs_of(r, "MatMul"))
    if (t->is_constant()) {
      EXPECT_EQ(t->constant.dtype(), narrow());
    }
  // The integer path: Shape stays i64, its Cast to float casts to the narrow type.
  for (const Operator& op : r.ops) {
    if (op->type == "Shape") {
      EXPECT_EQ(op->outputs[0]->dtype, ir::i64);
    }
    if (op->type == "Cast" && op->inputs[0]->dtype == ir::i64) {
      EXPECT_EQ(op->outputs[0]->dtype, narrow());
    }
  }
  r.validate();
  const std::vector<NDArray> inputs = random_inputs(g, 3);
  const std::vector<NDArray> expected = evaluate(g, inputs);
  expect_close(evaluate(r, inputs), expected, "narrowed graph", tolerance());
}

TEST_P(ConvertPrecision, CompiledModelAgreesWithF32) {
  const Graph g = block();
  ModelOptions options;
  options.precision = narrow();
  Model narrowed(g, options);
  const std::vector<NDArray> inputs = random_inputs(g, 9);
  const std::vector<NDArray> actual = narrowed.run(inputs);
  ASSERT_EQ(actual.size(), 2u);
  for (const NDArray& a : actual) EXPECT_EQ(a.dtype(), ir::f32);
  expect_close(actual, Model(g).run(inputs), "narrowed model", tolerance());
  // The rounding is real: some output differs from the f32 model's.
  const std::vector<NDArray> exact = Model(g).run(inputs);
  bool differs = false;
  for (int64_t i = 0; i < exact[0].numel(); ++i)
    differs |= exact[0].get_double(i) != actual[0].get_double(i);
  EXPECT_TRUE(differs);
}

// Resize's scales are f32 whatever its data; a quantizer keeps f32 and gets its input cast back
// up from the narrow Relu before it.
TEST_P(ConvertPrecision, F32OnlyInputsAndOperatorsKeepF32) {
  GraphBuilder b("resize", /*seed=*/2);
  Tensor x = b.input("x", ir::f32, {1, 2, 4, 4});
  Tensor scales = b.constant([] {
    NDArray s(ir::f32, {4});
    for (int i = 0; i < 4; ++i) s.set_double(i, i < 2 ? 1.0 : 2.0);
    return s;
  }());
  Tensor up = b.op1("Resize", {b.relu(x), nullptr, scales});
  Tensor q = b.op1("QuantizeLinear", {up, b.scalar(0.05), b.constant(NDArray(ir::u8, {}))});
  b.output(b.op1("DequantizeLinear", {q, b.scalar(0.05), b.constant(NDArray(ir::u8, {}))}), "y");
  const Graph g = specialized(b.build());
  const Graph r = convert_precision(g, narrow());
  for (const Operator& op : r.ops) {
    if (op->type == "Resize") {
      EXPECT_EQ(op->inputs[0]->dtype, narrow());
      EXPECT_EQ(op->inputs[2]->dtype, ir::f32);
    }
    if (op->type == "QuantizeLinear") {
      EXPECT_EQ(op->inputs[0]->dtype, ir::f32);
      ASSERT_NE(op->inputs[0]->producer, nullptr);
      EXPECT_EQ(op->inputs[0]->producer->type, "Cast");
    }
  }
  EXPECT_EQ(r.outputs[0]->dtype, ir::f32);
  r.validate();
}

INSTANTIATE_TEST_SUITE_P(Narrow, ConvertPrecision, ::testing::Values("f16", "bf16"),
                         [](const auto& info) { return std::string(info.param); });

TEST(ConvertPrecisionTo, F32IsTheGraphItselfAndOtherTypesAreErrors) {
  const Graph g = block();
  EXPECT_EQ(convert_precision(g, ir::f32).ops, g.ops);
  EXPECT_THROW(convert_precision(g, ir::f64), UserError);
}

}  // namespace
}  // namespace taskmap::graph
