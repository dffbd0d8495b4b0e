#pragma once
// What the bundled models share: one builder function per model (each in its own file) and the
// Conv + BatchNormalization unit the convolutional networks are made of.
#include <array>
#include <cstdint>

#include "taskmap/graph/builder.h"
#include "taskmap/graph/graph.h"

namespace taskmap::models {

graph::Graph build_resnet50(uint64_t seed);
graph::Graph build_mobilenet_v2(uint64_t seed);
graph::Graph build_inception_v3(uint64_t seed);
graph::Graph build_bert_base(uint64_t seed);
graph::Graph build_gpt2_small(uint64_t seed);

// A bias-free Conv with He-scaled random weights (std sqrt(2 / fan-in), so a following ReLU
// keeps activations O(1)) and a BatchNormalization with random statistics.
struct ConvBn {
  int64_t out = 0;  // output channels
  std::array<int64_t, 2> kernel = {1, 1};
  std::array<int64_t, 2> stride = {1, 1};
  std::array<int64_t, 2> pad = {0, 0};  // the same at both ends of each axis
  int64_t group = 1;
  double epsilon = 1e-5;
  double gamma_scale = 1.0;
};
graph::Tensor conv_bn(graph::GraphBuilder& b, const graph::Tensor& x, const ConvBn& spec);

// The ImageNet classifier head: GlobalAveragePool, Flatten, Gemm to 1000 logits.
graph::Tensor classifier(graph::GraphBuilder& b, const graph::Tensor& x);

}  // namespace taskmap::models
