// channels_last: 2-D convolutions run on channels-last (NHWC) tensors, and the elementwise
// operators between them follow, so that transposes remain only where an operator needs the
// ONNX layout (pooling, reshapes, graph inputs and outputs).
// Requires: a specialized graph. Guarantees: the same outputs up to float rounding (the
// convolutions sum in another order); graph inputs and outputs keep their names and layouts.
//
// Why: in NCHW a convolution is a GEMM whose output rows are channels and columns pixels. Where
// the pixels are few (7 × 7), the template vectorizes along the channels instead and stores the
// output transposed, a scalar at a time; a 3 × 3 window's image is packed from strided rows.
// In NHWC every convolution's output runs along its channels, a 1 × 1 convolution's image is a
// plain matrix read in place, and a window's image packs as runs of consecutive channels
// (measured 3-15% faster per convolution on ResNet-50's shapes at one thread).
//
// How: one walk in topological order keeps, for every tensor, the views made so far (its
// NCHW tensor, its NHWC tensor). An operator asks for its inputs in the layout it works in; a
// missing view becomes a Transpose of the other one, made once. Fusion later folds most of these
// transposes into the kernels beside them.
#include <algorithm>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "graph/passes/pattern.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {
namespace {

using patterns::attr_or;

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

// Operators that compute each output element from the input elements at the same index.
const std::unordered_set<std::string>& elementwise_types() {
  static const std::unordered_set<std::string> types = {
      "Relu", "LeakyRelu", "Clip", "Sigmoid",    "HardSigmoid", "HardSwish", "Tanh", "Gelu",
      "Elu",  "Selu",      "Celu", "Softplus",   "Softsign",    "Mish",      "Exp",  "Log",
      "Neg",  "Abs",       "Sqrt", "Reciprocal", "Erf",         "Identity",  "Add",  "Sub",
      "Mul",  "Div",       "Pow",  "Max",        "Min",         "Sum",       "Mean"};
  return types;
}

bool is_rank4_f32(const Tensor& t) {
  return t && t->dtype == ir::f32 && t->shape.size() == 4 && is_known(t->shape);
}

bool is_grouped_conv(const OperatorNode& op) {
  return op.type == "Conv" && op.domain.empty() && attr_or<int64_t>(op, "group", 1) != 1;
}

// A one-element constant, which broadcasts the same in either layout.
bool is_scalar_constant(const Tensor& t) {
  return t && t->is_constant() && t->constant.numel() == 1;
}

bool is_elementwise(const OperatorNode& op) {
  return op.domain.empty() && elementwise_types().count(op.type) > 0;
}

// A 2-D depthwise Conv (one group per channel, one output channel each) with a constant weight:
// NhwcDepthwiseConv runs it channels last, vectorized along the channels.
bool is_depthwise(const OperatorNode& op) {
  if (!is_grouped_conv(op) || op.inputs.size() < 2) return false;
  const Tensor& x = op.inputs[0];
  const Tensor& w = op.inputs[1];
  if (!is_rank4_f32(x) || !is_rank4_f32(op.outputs[0]) || !w || !w->is_constant() ||
      w->dtype != ir::f32 || w->shape.size() != 4 || !is_known(w->shape))
    return false;
  const int64_t channels = known_sizes(x->shape)[1];
  const std::vector<int64_t> ws = known_sizes(w->shape);
  return attr_or<int64_t>(op, "group", 1) == channels && ws[0] == channels && ws[1] == 1;
}

// The convolutions next to a grouped one that has no channels-last form, through chains of
// elementwise operators either way: these stay NCHW, as the transposes around the grouped
// convolution would cost more than the layout saves (MobileNetV2 took 12.6 ms instead of 9.5
// with its pointwise layers channels last and its depthwise layers NCHW).
std::unordered_set<const OperatorNode*> next_to_grouped(const Graph& graph) {
  std::unordered_map<const TensorNode*, std::vector<const OperatorNode*>> readers;
  for (const Operator& op : graph.ops)
    for (const Tensor& t : op->inputs)
      if (t) readers[t.get()].push_back(op.get());
  std::unordered_set<const OperatorNode*> out;
  for (const Operator& op : graph.ops) {
    if (!is_grouped_conv(*op) || is_depthwise(*op)) continue;
    // Back from its image to the operator that computed it.
    for (Tensor t = op->inputs[0]; t && t->producer;) {
      const OperatorNode* p = t->producer;
      if (!is_elementwise(*p)) {
        out.insert(p);
        break;
      }
      t = p->inputs.empty() ? nullptr : p->inputs[0];
    }
    // Forward from its output to every reader.
    std::vector<const TensorNode*> frontier = {op->outputs[0].get()};
    while (!frontier.empty()) {
      const TensorNode* t = frontier.back();
      frontier.pop_back();
      for (const OperatorNode* r : readers[t]) {
        if (!is_elementwise(*r)) {
          out.insert(r);
          continue;
        }
        for (const Tensor& o : r->outputs)
          if (o) frontier.push_back(o.get());
      }
    }
  }
  return out;
}

// A Conv the NHWC template does well: 2-D, one group, f32, output channels that fill the
// register tile. (An image of 3 channels packs one element at a time, as it does in NCHW, but
// its output then runs along memory: ResNet-50's stem is no slower, and its max pool follows.)
bool converts(const OperatorNode& op) {
  if (op.type != "Conv" || !op.domain.empty() || op.inputs.size() < 2 || is_grouped_conv(op))
    return false;
  const Tensor& x = op.inputs[0];
  const Tensor& w = op.inputs[1];
  if (!is_rank4_f32(x) || !is_rank4_f32(op.outputs[0]) || !w || !w->is_constant()) return false;
  // Channels last, the output channels are the GEMM's columns, vectorized in panels of 64, 32
  // or 16 (the AVX-512 register tiles; narrower targets waste less): fewer than 16 channels,
  // or a count wasting more than a quarter of its last panel, runs NCHW along the pixels.
  const int64_t out_channels = known_sizes(w->shape)[0];
  return 3 * ((out_channels + 15) / 16 * 16) <= 4 * out_channels;
}

Shape permuted(const Shape& shape, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(shape[p]);
  return out;
}

class ChannelsLast {
 public:
  ChannelsLast(const Graph& graph, std::unordered_set<const OperatorNode*> excluded)
      : graph_(graph), excluded_(std::move(excluded)) {}

  Graph run() {
    out_.name = graph_.name;
    out_.source = graph_.source;
    for (const Tensor& t : graph_.inputs) out_.inputs.push_back(fresh(t));
    for (const Operator& op : graph_.ops) {
      if (converts(*op) && !excluded_.count(op.get()) && !image_stays_nchw(*op)) {
        conv(*op);
      } else if (is_depthwise(*op) && has_nhwc(op->inputs[0])) {
        depthwise(*op);
      } else if (pads_channels_last(*op)) {
        pad(*op);
      } else if (pools_channels_last(*op)) {
        pool(*op);
      } else if (runs_channels_last(*op)) {
        copy(*op, true);
      } else {
        copy(*op, false);
      }
    }
    for (const Tensor& t : graph_.outputs) out_.outputs.push_back(view(t, false));
    return out_;
  }

 private:
  // A copy of `t` in the new graph (its NCHW view), produced by nothing yet.
  Tensor fresh(const Tensor& t) {
    auto copy = std::make_shared<TensorNode>(*t);
    copy->producer = nullptr;
    copy->producer_output = 0;
    return nchw_[t.get()] = copy;
  }

  // The channels-last tensor standing for `t` (an output of the input graph) in the new graph.
  Tensor nhwc_output(const Tensor& t) {
    return nhwc_[t.get()] = make_tensor(t->name + "/nhwc", t->dtype, permuted(t->shape, kToNhwc));
  }

  // `t` in the new graph, channels last or not; a Transpose of the other view when missing.
  Tensor view(const Tensor& t, bool channels_last) {
    if (!t) return nullptr;
    auto& views = channels_last ? nhwc_ : nchw_;
    if (auto it = views.find(t.get()); it != views.end()) return it->second;
    auto& others = channels_last ? nchw_ : nhwc_;
    auto other = others.find(t.get());
    if (other == others.end()) {
      TM_ASSERT(t->is_constant()) << "tensor '" << t->name << "' is read before it is defined";
      Tensor copy = fresh(t);
      if (!channels_last) return copy;
      other = nchw_.find(t.get());
    }
    const Tensor source = other->second;
    // The NCHW view is the tensor of the input graph: it keeps its name (a graph output's).
    Tensor result = channels_last ? nhwc_output(t) : fresh(t);
    auto transpose = std::make_shared<OperatorNode>();
    transpose->name = t->name + (channels_last ? "/to_nhwc" : "/to_nchw");
    transpose->inputs = {source};
    transpose->outputs = {result};
    if (moves_only_unit_dims(t)) {
      // One pixel (a global pool's output): the same elements in the same order, a Reshape,
      // which fusion folds into its reader.
      transpose->type = "Reshape";
      NDArray shape(ir::i64, {4});
      const std::vector<int64_t> sizes = known_sizes(result->shape);
      for (int d = 0; d < 4; ++d) shape.data<int64_t>()[d] = sizes[d];
      transpose->inputs.push_back(make_constant(transpose->name + "/shape", shape));
    } else {
      transpose->type = "Transpose";
      transpose->attrs["perm"] = channels_last ? kToNhwc : kToNchw;
    }
    out_.add(transpose);
    return result;
  }

  bool has_nhwc(const Tensor& t) const { return t && nhwc_.count(t.get()) > 0; }

  // Whether `t` (NCHW) has one pixel, so that its two layouts hold the same order.
  static bool moves_only_unit_dims(const Tensor& t) {
    if (!is_known(t->shape) || t->shape.size() != 4) return false;
    const std::vector<int64_t> sizes = known_sizes(t->shape);
    return sizes[2] == 1 && sizes[3] == 1;
  }

  // Whether the image of `conv` comes from a convolution that stayed NCHW (through elementwise
  // operators): it would then be read through a transpose, one element at a time, which cost
  // more than the layout saves (Inception-v3's 5x5 after a 48-channel 1x1: 1.89 ms against
  // 1.73 in NCHW; MobileNetV2's last 1x1 after a depthwise block).
  bool image_stays_nchw(const OperatorNode& conv) const {
    for (Tensor t = conv.inputs[0]; t && t->producer;) {
      const OperatorNode* p = t->producer;
      if (p->type == "Conv" && p->domain.empty()) return !has_nhwc(t);
      if (!is_elementwise(*p) || p->inputs.empty()) return false;
      t = p->inputs[0];
    }
    return false;
  }

  // A 2-D pool (MaxPool without Indices, AveragePool, or a global one) of a channels-last
  // tensor.
  bool pools_channels_last(const OperatorNode& op) const {
    static const std::unordered_set<std::string> pools = {"MaxPool", "AveragePool", "GlobalMaxPool",
                                                          "GlobalAveragePool"};
    if (!pools.count(op.type) || !op.domain.empty()) return false;
    for (size_t i = 1; i < op.outputs.size(); ++i)
      if (op.outputs[i]) return false;
    return op.inputs.size() == 1 && is_rank4_f32(op.inputs[0]) && has_nhwc(op.inputs[0]) &&
           is_rank4_f32(op.outputs[0]);
  }

  // `op` (a pool) as taskmap's channels-last pool. A global pool becomes the one whose window
  // is the whole image: it reads each pixel's channels in place (vectors along the channels)
  // where the NCHW one read the image through a transpose (ResNet-50's: 0.29 ms against
  // ORT's 0.02).
  void pool(const OperatorNode& op) {
    const bool global = op.type.rfind("Global", 0) == 0;
    convert(op, "Nhwc" + op.type.substr(global ? 6 : 0), [&](OperatorNode& node) {
      if (!global) return;
      const std::vector<int64_t> image = known_sizes(op.inputs[0]->shape);
      node.attrs = {{"kernel_shape", std::vector<int64_t>{image[2], image[3]}}};
    });
  }

  // An elementwise operator (or a Concat along the channels) all of whose rank-4 inputs are
  // already channels last; its other inputs must be single-element constants.
  bool runs_channels_last(const OperatorNode& op) const {
    if (!op.domain.empty() || op.outputs.size() != 1 || !is_rank4_f32(op.outputs[0])) return false;
    const bool concat = op.type == "Concat";
    if (concat) {
      const std::optional<int64_t> axis = attr_or<int64_t>(op, "axis", 0);
      if (axis != 1 && axis != -3) return false;
    } else if (!elementwise_types().count(op.type)) {
      return false;
    }
    bool any = false;
    for (const Tensor& t : op.inputs) {
      if (!t) continue;
      if (is_scalar_constant(t) && !concat) continue;
      if (!has_nhwc(t) || (!concat && t->shape != op.outputs[0]->shape)) return false;
      any = true;
    }
    return any;
  }

  // A copy of `op` reading its inputs in one layout; rank-4 outputs of a channels-last copy
  // are channels last.
  void copy(const OperatorNode& op, bool channels_last) {
    auto node = std::make_shared<OperatorNode>(op);
    for (Tensor& t : node->inputs)
      t = view(t, channels_last && t && t->shape.size() == 4 && !is_scalar_constant(t));
    if (channels_last && op.type == "Concat") node->attrs["axis"] = int64_t{3};
    for (Tensor& t : node->outputs)
      if (t) t = channels_last ? nhwc_output(t) : fresh(t);
    out_.add(node);
  }

  // A constant-pads Pad of a channels-last tensor (Inception's pooling branches pad before
  // their AveragePool): the same Pad with its pads permuted.
  bool pads_channels_last(const OperatorNode& op) const {
    if (op.type != "Pad" || !op.domain.empty() || op.inputs.size() < 2 || op.inputs.size() > 3 ||
        !is_rank4_f32(op.inputs[0]) || !has_nhwc(op.inputs[0]) || !op.inputs[1] ||
        !op.inputs[1]->is_constant())
      return false;
    const NDArray& pads = op.inputs[1]->constant;
    return pads.dtype() == ir::i64 && pads.numel() == 8 &&
           (op.inputs.size() < 3 || !op.inputs[2] || op.inputs[2]->is_constant());
  }

  void pad(const OperatorNode& op) {
    const NDArray& pads = op.inputs[1]->constant;
    NDArray permuted_pads(ir::i64, {8});
    for (int side = 0; side < 2; ++side)
      for (int d = 0; d < 4; ++d)
        permuted_pads.data<int64_t>()[side * 4 + d] = pads.data<int64_t>()[side * 4 + kToNhwc[d]];
    auto node = std::make_shared<OperatorNode>(op);
    node->inputs[0] = view(op.inputs[0], true);
    node->inputs[1] = make_constant(op.inputs[1]->name + "/nhwc", permuted_pads);
    if (node->inputs.size() > 2) node->inputs[2] = view(op.inputs[2], false);
    node->outputs = {nhwc_output(op.outputs[0])};
    out_.add(node);
  }

  // `op` as taskmap's channels-last `type`: input 0 and output 0 channels last, the other
  // inputs (a convolution's weight and bias) as they are; `adjust` edits the copy before it
  // joins the graph.
  void convert(const OperatorNode& op, const std::string& type,
               const std::function<void(OperatorNode&)>& adjust = {}) {
    auto node = std::make_shared<OperatorNode>(op);
    node->type = type;
    node->domain = kTaskmapDomain;
    node->opset = 0;
    node->inputs[0] = view(op.inputs[0], true);
    for (size_t i = 1; i < node->inputs.size(); ++i) node->inputs[i] = view(op.inputs[i], false);
    node->outputs = {nhwc_output(op.outputs[0])};
    if (adjust) adjust(*node);
    out_.add(node);
  }

  // `op` (a Conv) as NhwcConv, a stem's padding moved into a Pad of its image.
  void conv(const OperatorNode& op) {
    convert(op, "NhwcConv", [&](OperatorNode& node) {
      if (!pads_explicitly(op)) return;
      node.inputs[0] = padded(node.inputs[0], op);
      node.attrs.erase("pads");
    });
  }

  // A padded convolution over an image of few channels (a stem: 3): its padding becomes a Pad
  // of the image, one small copy, so that the GEMM template reads the unpadded window in place
  // (ResNet-50's 7 x 7 stem packed its image element by element, with the padding's conditions,
  // at twice the time of its multiply-adds).
  static bool pads_explicitly(const OperatorNode& op) {
    if (known_sizes(op.inputs[0]->shape)[1] >= 16) return false;
    if (op.attrs.count("auto_pad") && std::get<std::string>(op.attrs.at("auto_pad")) != "NOTSET")
      return false;
    const std::vector<int64_t> pads =
        attr_or<std::vector<int64_t>>(op, "pads", {}).value_or(std::vector<int64_t>{});
    return std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; });
  }

  // `image` (channels last) padded by a Pad with `op`'s pads (begins then ends over H, W).
  Tensor padded(const Tensor& image, const OperatorNode& op) {
    const std::vector<int64_t> pads =
        attr_or<std::vector<int64_t>>(op, "pads", {}).value_or(std::vector<int64_t>{});
    std::vector<int64_t> sizes = known_sizes(image->shape);
    NDArray nhwc_pads(ir::i64, {8});
    std::fill(nhwc_pads.data<int64_t>(), nhwc_pads.data<int64_t>() + 8, 0);
    for (int d = 0; d < 2; ++d) {
      nhwc_pads.data<int64_t>()[1 + d] = pads[d];
      nhwc_pads.data<int64_t>()[5 + d] = pads[2 + d];
      sizes[1 + d] += pads[d] + pads[2 + d];
    }
    auto pad = std::make_shared<OperatorNode>();
    pad->type = "Pad";
    pad->name = op.name + "/pad";
    pad->inputs = {image, make_constant(pad->name + "/pads", nhwc_pads)};
    pad->outputs = {make_tensor(image->name + "/padded", image->dtype, to_shape(sizes))};
    out_.add(pad);
    return pad->outputs[0];
  }

  // `op` (a depthwise Conv) as NhwcDepthwiseConv, its weight [C, 1, kh, kw] transposed to
  // [kh, kw, C].
  void depthwise(const OperatorNode& op) {
    const NDArray& w = op.inputs[1]->constant;
    const std::vector<int64_t>& ws = w.shape();
    const int64_t channels = ws[0], taps = ws[2] * ws[3];
    NDArray transposed(ir::f32, {ws[2], ws[3], channels});
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t k = 0; k < taps; ++k)
        transposed.data<float>()[k * channels + c] = w.data<float>()[c * taps + k];
    convert(op, "NhwcDepthwiseConv", [&](OperatorNode& node) {
      node.inputs[1] = make_constant(op.inputs[1]->name + "/hwc", transposed);
    });
  }

  const Graph& graph_;
  const std::unordered_set<const OperatorNode*> excluded_;
  Graph out_;
  std::unordered_map<const TensorNode*, Tensor> nchw_, nhwc_;
};

}  // namespace

Graph channels_last(const Graph& graph) {
  std::unordered_set<const OperatorNode*> excluded = next_to_grouped(graph);
  bool any = false;
  for (const Operator& op : graph.ops) any |= converts(*op) && !excluded.count(op.get());
  if (!any) return graph;
  return ChannelsLast(graph, std::move(excluded)).run();
}

}  // namespace taskmap::graph
