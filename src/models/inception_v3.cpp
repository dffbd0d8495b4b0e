// Inception-v3 (Szegedy et al. 2016, as torchvision builds it, without the auxiliary head): a
// convolutional stem, then blocks A (35x35), B (grid reduction), C (17x17, factorized 1x7 / 7x1
// convolutions), D (grid reduction) and E (8x8, split 1x3 / 3x1 branches). Every convolution is
// Conv + BatchNorm (epsilon 0.001) + ReLU. Input [1, 3, 299, 299], output 1000 logits.
#include "models/model_parts.h"

namespace taskmap::models {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

// BasicConv2d: kernel kh x kw, padding ph / pw, stride s. Gammas of 0.9 on average keep the
// activations of this 20-convolution-deep chain O(1) (with 1.0 they grow about 1.2x per layer).
Tensor basic_conv(GraphBuilder& b, const Tensor& x, int64_t out, int64_t kh, int64_t kw,
                  int64_t ph = 0, int64_t pw = 0, int64_t s = 1) {
  return b.relu(conv_bn(b, x,
                        {.out = out,
                         .kernel = {kh, kw},
                         .stride = {s, s},
                         .pad = {ph, pw},
                         .epsilon = 1e-3,
                         .gamma_scale = 0.9}));
}

Tensor avg_pool_3x3(GraphBuilder& b, const Tensor& x) {  // stride 1, padding 1, as torch counts it
  return b.average_pool(
      x, {.kernel = {3, 3}, .strides = {1, 1}, .pads = {1, 1, 1, 1}, .count_include_pad = true});
}

Tensor max_pool_3x3_s2(GraphBuilder& b, const Tensor& x) {
  return b.max_pool(x, {.kernel = {3, 3}, .strides = {2, 2}});
}

Tensor block_a(GraphBuilder& b, const Tensor& x, int64_t pool_features) {
  Tensor b1 = basic_conv(b, x, 64, 1, 1);
  Tensor b5 = basic_conv(b, basic_conv(b, x, 48, 1, 1), 64, 5, 5, 2, 2);
  Tensor b3 = basic_conv(b, x, 64, 1, 1);
  b3 = basic_conv(b, basic_conv(b, b3, 96, 3, 3, 1, 1), 96, 3, 3, 1, 1);
  Tensor bp = basic_conv(b, avg_pool_3x3(b, x), pool_features, 1, 1);
  return b.concat({b1, b5, b3, bp}, 1);
}

Tensor block_b(GraphBuilder& b, const Tensor& x) {
  Tensor b3 = basic_conv(b, x, 384, 3, 3, 0, 0, 2);
  Tensor bd = basic_conv(b, basic_conv(b, x, 64, 1, 1), 96, 3, 3, 1, 1);
  bd = basic_conv(b, bd, 96, 3, 3, 0, 0, 2);
  return b.concat({b3, bd, max_pool_3x3_s2(b, x)}, 1);
}

Tensor block_c(GraphBuilder& b, const Tensor& x, int64_t c7) {
  Tensor b1 = basic_conv(b, x, 192, 1, 1);
  Tensor b7 = basic_conv(b, x, c7, 1, 1);
  b7 = basic_conv(b, b7, c7, 1, 7, 0, 3);
  b7 = basic_conv(b, b7, 192, 7, 1, 3, 0);
  Tensor bd = basic_conv(b, x, c7, 1, 1);
  bd = basic_conv(b, bd, c7, 7, 1, 3, 0);
  bd = basic_conv(b, bd, c7, 1, 7, 0, 3);
  bd = basic_conv(b, bd, c7, 7, 1, 3, 0);
  bd = basic_conv(b, bd, 192, 1, 7, 0, 3);
  Tensor bp = basic_conv(b, avg_pool_3x3(b, x), 192, 1, 1);
  return b.concat({b1, b7, bd, bp}, 1);
}

Tensor block_d(GraphBuilder& b, const Tensor& x) {
  Tensor b3 = basic_conv(b, basic_conv(b, x, 192, 1, 1), 320, 3, 3, 0, 0, 2);
  Tensor b7 = basic_conv(b, x, 192, 1, 1);
  b7 = basic_conv(b, b7, 192, 1, 7, 0, 3);
  b7 = basic_conv(b, b7, 192, 7, 1, 3, 0);
  b7 = basic_conv(b, b7, 192, 3, 3, 0, 0, 2);
  return b.concat({b3, b7, max_pool_3x3_s2(b, x)}, 1);
}

Tensor block_e(GraphBuilder& b, const Tensor& x) {
  Tensor b1 = basic_conv(b, x, 320, 1, 1);
  Tensor b3 = basic_conv(b, x, 384, 1, 1);
  b3 = b.concat({basic_conv(b, b3, 384, 1, 3, 0, 1), basic_conv(b, b3, 384, 3, 1, 1, 0)}, 1);
  Tensor bd = basic_conv(b, basic_conv(b, x, 448, 1, 1), 384, 3, 3, 1, 1);
  bd = b.concat({basic_conv(b, bd, 384, 1, 3, 0, 1), basic_conv(b, bd, 384, 3, 1, 1, 0)}, 1);
  Tensor bp = basic_conv(b, avg_pool_3x3(b, x), 192, 1, 1);
  return b.concat({b1, b3, bd, bp}, 1);
}

}  // namespace

graph::Graph build_inception_v3(uint64_t seed) {
  GraphBuilder b("inception_v3", seed);
  Tensor x = b.input("input", ir::f32, {1, 3, 299, 299});
  Tensor y = basic_conv(b, x, 32, 3, 3, 0, 0, 2);  // 149x149
  y = basic_conv(b, y, 32, 3, 3);                  // 147x147
  y = basic_conv(b, y, 64, 3, 3, 1, 1);
  y = max_pool_3x3_s2(b, y);  // 73x73
  y = basic_conv(b, y, 80, 1, 1);
  y = basic_conv(b, y, 192, 3, 3);  // 71x71
  y = max_pool_3x3_s2(b, y);        // 35x35
  y = block_a(b, y, 32);            // 256 channels
  y = block_a(b, y, 64);            // 288
  y = block_a(b, y, 64);            // 288
  y = block_b(b, y);                // 768, 17x17
  for (int64_t c7 : {128, 160, 160, 192}) y = block_c(b, y, c7);
  y = block_d(b, y);  // 1280, 8x8
  y = block_e(b, y);  // 2048
  y = block_e(b, y);
  b.output(classifier(b, y), "logits");
  return b.build();
}

}  // namespace taskmap::models
