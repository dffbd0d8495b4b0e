// The bundled models by name, and the parts the convolutional ones share.
#include "taskmap/models.h"

#include <cmath>
#include <utility>

#include "models/model_parts.h"
#include "taskmap/error.h"

namespace taskmap::models {
namespace {

using Builder = graph::Graph (*)(uint64_t);

const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> models = {
      {"resnet50", build_resnet50},         {"mobilenet_v2", build_mobilenet_v2},
      {"inception_v3", build_inception_v3}, {"bert_base", build_bert_base},
      {"gpt2_small", build_gpt2_small},
  };
  return models;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, build] : registry()) names.push_back(name);
  return names;
}

graph::Graph build_model(const std::string& name, uint64_t seed) {
  for (const auto& [known, build] : registry())
    if (known == name) return build(seed);
  std::string list;
  for (const std::string& known : model_names()) list += (list.empty() ? "" : ", ") + known;
  TM_USER_ERROR() << "unknown model '" << name << "'; the bundled models are: " << list;
}

// MobileNetV2: ResNet-50 takes seconds per run on a 2-core machine with the current convolution
// kernels; MobileNetV2 (0.6 GFLOP) runs in well under one.
std::string default_model_name() {
  return "mobilenet_v2";
}

graph::Tensor conv_bn(graph::GraphBuilder& b, const graph::Tensor& x, const ConvBn& spec) {
  int64_t in = graph::GraphBuilder::dim(x, 1);
  TM_ASSERT(in % spec.group == 0 && spec.out % spec.group == 0) << "conv_bn: bad group count";
  int64_t fan_in = in / spec.group * spec.kernel[0] * spec.kernel[1];
  graph::Tensor w = b.weight({spec.out, in / spec.group, spec.kernel[0], spec.kernel[1]},
                             std::sqrt(2.0 / static_cast<double>(fan_in)));
  graph::ConvAttrs attrs;
  attrs.strides = {spec.stride[0], spec.stride[1]};
  attrs.pads = {spec.pad[0], spec.pad[1], spec.pad[0], spec.pad[1]};
  attrs.group = spec.group;
  return b.batch_norm(b.conv2d(x, w, nullptr, attrs), spec.epsilon, spec.gamma_scale);
}

graph::Tensor classifier(graph::GraphBuilder& b, const graph::Tensor& x) {
  graph::Tensor pooled = b.flatten(b.global_average_pool(x));
  int64_t features = graph::GraphBuilder::dim(pooled, 1);
  return b.gemm(pooled, b.weight({1000, features}), b.uniform({1000}, -0.05, 0.05));
}

}  // namespace taskmap::models
