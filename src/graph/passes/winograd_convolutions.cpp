// Runs stride-1 3 × 3 convolutions by Winograd's F(m × m, 3 × 3) (schedules/winograd.h): an
// NhwcConv becomes WinogradInput -> batched MatMul with the transformed weight (a constant made
// here) -> WinogradOutput (+ bias). F(4, 3) multiplies 4x less than the direct convolution and
// F(2, 3) 2.25x less, for transforms that cost a few adds per value they move.
//
// The tile size is chosen so that each of the α² GEMMs keeps at least kMinTiles rows: a GEMM of
// fewer rows reads each transformed weight too few times to pay for it (ResNet-50's 7 × 7 layers
// under F(2, 3) ran no faster than directly; its 14 × 14 ones ran 2x faster under F(2, 3) and only
// 1.5x under F(4, 3), 16 rows). Measured on single layers, 1 thread: 3 × 3 64 -> 64 on 56 × 56
// 2.17 ms directly, 0.55 ms for F(4, 3)'s GEMMs; 128 -> 128 on 28 × 28 2.08 vs 0.58.
#include <algorithm>

#include "graph/passes/graph_editor.h"
#include "graph/passes/pattern.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/rewrites.h"
#include "taskmap/schedules/winograd.h"

namespace taskmap::graph {
namespace {

using schedules::WinogradGeometry;

constexpr int64_t kMinTiles = 32;
// Channels below this leave the GEMMs too short to beat the direct convolution's.
constexpr int64_t kMinChannels = 16;

// F(4, 3) where it leaves kMinTiles tiles, else F(2, 3), else 0 (stay direct).
int64_t tile_size(int64_t batch, int64_t out_height, int64_t out_width) {
  for (int64_t m : {4, 2}) {
    WinogradGeometry g;
    g.m = m;
    g.batch = batch;
    g.out_height = out_height;
    g.out_width = out_width;
    if (g.tiles() >= kMinTiles) return m;
  }
  return 0;
}

// The three operators computing `conv`'s output, or nothing when it does not qualify.
std::vector<Operator> winograd(const OperatorNode& conv) {
  if (conv.type != "NhwcConv" || conv.domain != kTaskmapDomain || conv.inputs.size() < 2 ||
      conv.outputs.empty() || !conv.outputs[0])
    return {};
  const Tensor& x = conv.inputs[0];
  const Tensor& w = conv.inputs[1];
  const Tensor bias = conv.inputs.size() > 2 ? conv.inputs[2] : nullptr;
  const Tensor& y = conv.outputs[0];
  if (!x || !w || x->dtype != ir::f32 || !is_known(x->shape) || x->shape.size() != 4 ||
      !w->is_constant() || w->dtype != ir::f32 || (bias && !bias->is_constant()) ||
      !is_known(y->shape))
    return {};
  const std::vector<int64_t> ws = w->constant.shape();
  const std::vector<int64_t> xs = known_sizes(x->shape);
  if (ws.size() != 4 || ws[2] != 3 || ws[3] != 3 || ws[1] != xs[3]) return {};
  std::optional<patterns::Conv2dAttrs> attrs = patterns::conv2d_attrs(conv);
  if (!attrs || attrs->group != 1 || attrs->strides != std::vector<int64_t>{1, 1} ||
      attrs->dilations != std::vector<int64_t>{1, 1} ||
      std::any_of(attrs->pads.begin(), attrs->pads.end(), [](int64_t p) { return p < 0 || p > 2; }))
    return {};
  const std::vector<int64_t>& pads = attrs->pads;
  const int64_t in_channels = ws[1], out_channels = ws[0];
  if (in_channels < kMinChannels || out_channels < kMinChannels) return {};

  WinogradGeometry g;
  g.batch = xs[0];
  g.height = xs[1];
  g.width = xs[2];
  g.channels = in_channels;
  g.pad_top = pads[0];
  g.pad_left = pads[1];
  g.out_height = g.height + pads[0] + pads[2] - 2;
  g.out_width = g.width + pads[1] + pads[3] - 2;
  if (known_sizes(y->shape) !=
      std::vector<int64_t>{g.batch, g.out_height, g.out_width, out_channels})
    return {};
  g.m = tile_size(g.batch, g.out_height, g.out_width);
  if (g.m == 0) return {};

  const std::string name = conv.name.empty() ? "conv" : conv.name;
  const int64_t squares = g.alpha() * g.alpha();
  NDArray u = schedules::winograd_weight(w->constant.data<float>(), out_channels, in_channels, g.m);

  auto make = [&](const std::string& type, const std::string& domain, std::vector<Tensor> inputs,
                  Tensor output, std::map<std::string, AttrValue> attrs) {
    auto op = std::make_shared<OperatorNode>();
    op->type = type;
    op->domain = domain;
    op->name = name + "/" + type;
    op->attrs = std::move(attrs);
    op->inputs = std::move(inputs);
    op->outputs = {std::move(output)};
    return op;
  };
  Tensor v =
      make_tensor(name + "/winograd_v", ir::f32, to_shape({squares, g.tiles(), in_channels}));
  Tensor m =
      make_tensor(name + "/winograd_m", ir::f32, to_shape({squares, g.tiles(), out_channels}));
  std::vector<Tensor> output_inputs = {m};
  if (bias) output_inputs.push_back(bias);
  return {make("WinogradInput", kTaskmapDomain, {x}, v, {{"tile", g.m}, {"pads", pads}}),
          make("MatMul", "", {v, make_constant(name + "/winograd_u", std::move(u))}, m, {}),
          make("WinogradOutput", kTaskmapDomain, std::move(output_inputs), y,
               {{"tile", g.m},
                {"output_shape", std::vector<int64_t>{g.batch, g.out_height, g.out_width}}})};
}

}  // namespace

Graph winograd_convolutions(const Graph& graph) {
  return replace_each(graph, winograd);
}

}  // namespace taskmap::graph
