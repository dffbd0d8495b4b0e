// ResNet-50 (He et al. 2016, as torchvision builds it: the stride sits on the 3x3 convolution of
// each bottleneck). Input [1, 3, 224, 224], output 1000 logits.
#include "models/model_parts.h"

namespace taskmap::models {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

// 1x1 reduce, 3x3 (strided), 1x1 expand to 4 * width, plus the shortcut (a strided 1x1
// projection where the shape changes). The last BatchNorm of the branch has small gammas so
// that sixteen residual sums stay O(1).
Tensor bottleneck(GraphBuilder& b, const Tensor& x, int64_t width, int64_t stride) {
  int64_t out = 4 * width;
  Tensor y = b.relu(conv_bn(b, x, {.out = width}));
  y = b.relu(
      conv_bn(b, y, {.out = width, .kernel = {3, 3}, .stride = {stride, stride}, .pad = {1, 1}}));
  y = conv_bn(b, y, {.out = out, .gamma_scale = 0.2});
  Tensor shortcut = x;
  if (stride != 1 || GraphBuilder::dim(x, 1) != out)
    shortcut = conv_bn(b, x, {.out = out, .stride = {stride, stride}, .gamma_scale = 0.5});
  return b.relu(b.add(y, shortcut));
}

}  // namespace

graph::Graph build_resnet50(uint64_t seed) {
  GraphBuilder b("resnet50", seed);
  Tensor x = b.input("input", ir::f32, {1, 3, 224, 224});
  Tensor y = b.relu(conv_bn(b, x, {.out = 64, .kernel = {7, 7}, .stride = {2, 2}, .pad = {3, 3}}));
  y = b.max_pool(y, {.kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  const int64_t blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    int64_t width = int64_t{64} << stage;
    for (int64_t i = 0; i < blocks[stage]; ++i)
      y = bottleneck(b, y, width, i == 0 && stage > 0 ? 2 : 1);
  }
  b.output(classifier(b, y), "logits");
  return b.build();
}

}  // namespace taskmap::models
