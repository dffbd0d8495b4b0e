// MobileNetV2 (Sandler et al. 2018, width 1.0, as torchvision builds it): inverted residual
// blocks of a 1x1 expansion, a 3x3 depthwise convolution (both with ReLU6) and a linear 1x1
// projection, with a shortcut where stride is 1 and the channel count is unchanged.
// Input [1, 3, 224, 224], output 1000 logits.
#include "models/model_parts.h"

namespace taskmap::models {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

Tensor inverted_residual(GraphBuilder& b, const Tensor& x, int64_t out, int64_t stride,
                         int64_t expand) {
  int64_t in = GraphBuilder::dim(x, 1);
  int64_t hidden = in * expand;
  Tensor y = x;
  if (expand != 1) y = b.relu6(conv_bn(b, y, {.out = hidden}));
  y = b.relu6(conv_bn(b, y,
                      {.out = hidden,
                       .kernel = {3, 3},
                       .stride = {stride, stride},
                       .pad = {1, 1},
                       .group = hidden}));
  bool residual = stride == 1 && in == out;
  y = conv_bn(b, y, {.out = out, .gamma_scale = residual ? 0.3 : 1.0});
  return residual ? b.add(x, y) : y;
}

}  // namespace

graph::Graph build_mobilenet_v2(uint64_t seed) {
  GraphBuilder b("mobilenet_v2", seed);
  Tensor x = b.input("input", ir::f32, {1, 3, 224, 224});
  Tensor y = b.relu6(conv_bn(b, x, {.out = 32, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}}));
  struct Stage {
    int64_t expand, out, repeat, stride;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const Stage& s : stages)
    for (int64_t i = 0; i < s.repeat; ++i)
      y = inverted_residual(b, y, s.out, i == 0 ? s.stride : 1, s.expand);
  y = b.relu6(conv_bn(b, y, {.out = 1280}));
  b.output(classifier(b, y), "logits");
  return b.build();
}

}  // namespace taskmap::models
