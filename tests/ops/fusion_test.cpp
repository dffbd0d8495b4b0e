// Post-scheduling fusion (src/model/fusion.h): fused and unfused plans agree on fresh random
// data for injective chains before and after every anchor kind, fusion really removes kernels,
// and the kernel counts of ResNet-50 and BERT are what the partition rules give.
#include <cmath>
#include <functional>

#include "ops/ops_support.h"
#include "taskmap/graph/builder.h"
#include "taskmap/model.h"
#include "taskmap/models.h"

namespace taskmap::testing {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

// A graph `input -> prologue -> anchor -> epilogue -> output`, built by `body` from the input.
graph::Graph chain(const Shape& input_shape,
                   const std::function<Tensor(GraphBuilder&, Tensor)>& body) {
  GraphBuilder b("chain", /*seed=*/7);
  Tensor x = b.input("x", ir::f32, graph::to_shape(input_shape));
  b.output(body(b, x), "y");
  return b.build();
}

struct Case {
  std::string name;
  Shape shape;
  std::function<Tensor(GraphBuilder&, Tensor)> body;
};

// Prologues (Relu, Mul, Transpose) feed the anchor; epilogues (bias Add, Sigmoid, Mul by a
// broadcast constant, a residual Add) follow it.
std::vector<Case> cases() {
  auto tail = [](GraphBuilder& b, Tensor y) {
    return b.op1("Sigmoid", {b.mul(b.add(y, b.scalar(0.25)), b.scalar(1.5))});
  };
  return {
      {"matmul",
       {48, 40},
       [=](GraphBuilder& b, Tensor x) {
         Tensor y = b.matmul(b.relu(x), b.weight({40, 72}));
         return tail(b, b.add(y, b.weight({72}, 1.0)));
       }},
      {"batched matmul of a transposed operand",
       {3, 24, 40},
       [=](GraphBuilder& b, Tensor x) {
         Tensor k = b.transpose(b.mul(x, b.scalar(0.5)), {0, 2, 1});
         return tail(b, b.matmul(x, k));
       }},
      {"conv",
       {1, 8, 14, 14},
       [=](GraphBuilder& b, Tensor x) {
         Tensor y = b.conv2d(b.relu(x), b.weight({16, 8, 3, 3}), b.weight({16}, 1.0),
                             {.pads = {1, 1, 1, 1}});
         Tensor residual = b.conv2d(x, b.weight({16, 8, 1, 1}), nullptr);
         return b.relu(b.add(b.batch_norm(y), residual));
       }},
      {"max pool",
       {1, 4, 12, 12},
       [=](GraphBuilder& b, Tensor x) {
         return tail(b, b.max_pool(b.mul(x, b.scalar(-1.0)), {}));
       }},
      {"reduce mean",
       {6, 50},
       [=](GraphBuilder& b, Tensor x) {
         Tensor m = b.op1("ReduceMean", {b.op1("Exp", {x})}, {{"axes", std::vector<int64_t>{1}}});
         return tail(b, m);
       }},
      {"softmax",
       {5, 33},
       [=](GraphBuilder& b, Tensor x) { return tail(b, b.softmax(b.mul(x, b.scalar(3.0)))); }},
      {"softmax, whole vectors per row (softmax_cpu)",
       {6, 64},
       [=](GraphBuilder& b, Tensor x) { return tail(b, b.softmax(b.mul(x, b.scalar(3.0)))); }},
      {"layer norm",
       {10, 64},
       [=](GraphBuilder& b, Tensor x) {
         return tail(b, b.layer_norm(b.add(x, b.scalar(1.0)), 64));
       }},
      {"injective chain",
       {7, 30},
       [=](GraphBuilder& b, Tensor x) { return tail(b, b.op1("Tanh", {b.mul(x, x)})); }},
  };
}

TEST(Fusion, FusedAndUnfusedPlansAgree) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    expect_fusion_keeps_results([&] { return chain(c.shape, c.body); }, c.shape, c.name);
  }
}

int kernels_of(const std::string& model) {
  Model m(models::build_model(model));
  return m.plan_only(m.default_bindings()).kernels;
}

// Every convolution of ResNet-50 (its batch norm folded into the weights, channels last) takes
// the residual Add and the Relu: the image transposed and padded (one kernel), 53 convolutions,
// the stem's max pool, the global average pool (channels last; the Reshape back to NCHW folds
// into the classifier) and the classifier: 57. The 11 convolutions run by Winograd are three
// kernels each (input transform, GEMMs, output transform + bias + Relu): 22 more.
TEST(Fusion, ResNet50KernelCount) {
  Model m(models::build_model("resnet50"));
  CompileReport report = m.plan_only(m.default_bindings());
  EXPECT_EQ(report.kernels, 57 + 2 * 11);
  int conv_add_relu = 0;
  for (const std::string& label : report.kernel_labels) {
    conv_add_relu += label.rfind("NhwcConv", 0) == 0 && label.find("+ Add") != std::string::npos &&
                     label.find("+ Relu") != std::string::npos;
  }
  EXPECT_EQ(conv_add_relu, 16) << "one per bottleneck block";
}

// A BERT layer is 12 kernels: LayerNorm, the Q, K and V projections (+ bias), Q·Kᵀ (with its
// transposes as prologues, the scaling as epilogue), Softmax, ·V, the head merge, the output
// projection (+ bias + residual), LayerNorm, FFN up (+ bias + GELU, recognized as one Gelu),
// FFN down (+ bias + residual). Twelve layers, plus the embeddings, the final LayerNorm and the
// pooler.
TEST(Fusion, BertKernelCount) {
  EXPECT_EQ(kernels_of("bert_base"), 12 * 12 + 3);
}

}  // namespace
}  // namespace taskmap::testing
