#pragma once
// The bundled models, built with the graph builder from seeded random weights: ResNet-50,
// MobileNetV2, Inception-v3, a BERT-base encoder and a GPT-2-small decoder stack.
#include <string>
#include <vector>

#include "taskmap/graph/graph.h"

namespace taskmap::models {

// "resnet50", "mobilenet_v2", "inception_v3", "bert_base", "gpt2_small".
std::vector<std::string> model_names();
// The model of that name (batch 1; transformers at sequence length 128). An unknown name is a
// UserError listing the names.
graph::Graph build_model(const std::string& name, uint64_t seed = 0);
// The model the README's main command runs.
std::string default_model_name();

}  // namespace taskmap::models
