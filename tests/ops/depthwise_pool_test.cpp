// The depthwise-convolution and pooling templates (schedules/depthwise_cpu.h, pool_cpu.h) on
// operators lowered by their own definitions: implement_cpu must pick the template, and the
// kernels must match double-precision references on fresh random data for odd sizes, strides,
// paddings, dilations and kernel sizes. A fused Conv + BatchNormalization + Clip graph and a
// MaxPool + Relu graph must agree with their unfused plans.
#include <cmath>
#include <limits>
#include <map>

#include "ops/ops_support.h"
#include "taskmap/graph/builder.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/ir/printer.h"
#include "taskmap/model.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/schedules/auto_scheduler.h"
#include "taskmap/schedules/depthwise_cpu.h"
#include "taskmap/schedules/pool_cpu.h"
#include "taskmap/target.h"

namespace taskmap::testing {
namespace {

using graph::AttrValue;

std::string schedule_of(const ir::Function& f) {
  auto it = f->attrs.find("schedule");
  return it == f->attrs.end() ? "" : it->second;
}

// Runs `kernel` on `inputs` (one per task input) and returns the poisoned-then-written output.
std::vector<float> run(const CompiledKernel& kernel, const ir::Task& task,
                       std::vector<std::vector<float>>& inputs) {
  std::vector<void*> args;
  for (auto& in : inputs) args.push_back(in.data());
  std::vector<float> out = poisoned(numel(task.output_params()[0].type().shape()));
  args.push_back(out.data());
  kernel(args);
  return out;
}

// Output positions of one spatial dim, as the operators compute them.
struct Dim {
  int64_t in, kernel, stride, dilation, pad_begin, pad_end;
  int64_t position(int64_t o, int64_t k) const { return o * stride - pad_begin + k * dilation; }
};

// ---- depthwise convolutions ------------------------------------------------------------------

struct ConvCase {
  Shape x;                                 // N, C, H, W
  int64_t multiplier;                      // output channels per group
  Shape kernel, strides, pads, dilations;  // pads: begins then ends, as ONNX
  bool bias;
  int64_t channels_per_group = 1;  // input channels per group: 1 for a depthwise convolution
  int64_t groups() const { return x[1] / channels_per_group; }
  std::string str() const {
    return shape_str(x) + " x" + std::to_string(multiplier) + " k" + shape_str(kernel) + " s" +
           shape_str(strides) + " p" + shape_str(pads) + " d" + shape_str(dilations) +
           (bias ? " +bias" : "") + " groups " + std::to_string(groups());
  }
  Dim dim(int d) const {
    return {x[2 + d], kernel[d], strides[d], dilations[d], pads[d], pads[2 + d]};
  }
  Shape weight() const { return {groups() * multiplier, channels_per_group, kernel[0], kernel[1]}; }
  ir::Task task() const {
    std::vector<Shape> inputs = {x, weight()};
    if (bias) inputs.push_back({groups() * multiplier});
    return lower_op("Conv", inputs,
                    {{"group", groups()},
                     {"kernel_shape", kernel},
                     {"strides", strides},
                     {"pads", pads},
                     {"dilations", dilations}});
  }
};

const std::vector<ConvCase> kConvCases = {
    {{1, 7, 13, 11}, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {{1, 32, 56, 56}, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {{2, 16, 28, 29}, 1, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},
    {{1, 8, 17, 19}, 1, {5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}, true},
    {{1, 6, 20, 37}, 1, {3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, true},
    {{1, 5, 15, 16}, 2, {3, 3}, {2, 2}, {0, 1, 1, 0}, {1, 1}, true},
    {{1, 4, 9, 40}, 1, {3, 1}, {1, 3}, {1, 0, 1, 0}, {1, 1}, false},
    {{1, 3, 11, 23}, 1, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true},
    {{1, 3, 2, 3}, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {{1, 2, 30, 33}, 1, {7, 7}, {1, 1}, {3, 3, 3, 3}, {1, 1}, true},
    {{1, 2, 24, 26}, 1, {11, 11}, {1, 1}, {5, 5, 5, 5}, {1, 1}, false},
    // Grouped, two input channels and three output channels per group: the GEMM template
    // leaves it (one output row per group), the window form takes it.
    {{1, 8, 19, 21}, 3, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true, 2},
};

// The reference and, per element, the sum of |terms| (the scale its rounding error follows).
void conv_reference(const ConvCase& c, const Shape& out, const std::vector<float>& x,
                    const std::vector<float>& w, const std::vector<float>* bias,
                    std::vector<double>& expected, std::vector<double>& scale) {
  expected.assign(numel(out), 0.0);
  scale.assign(numel(out), 0.0);
  const Dim h = c.dim(0), wd = c.dim(1);
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> o = unravel(i, out);
    const int64_t first_channel = o[1] / c.multiplier * c.channels_per_group;
    double sum = bias ? (*bias)[o[1]] : 0.0, size = std::fabs(sum);
    for (int64_t ci = 0; ci < c.channels_per_group; ++ci) {
      for (int64_t kh = 0; kh < h.kernel; ++kh) {
        for (int64_t kw = 0; kw < wd.kernel; ++kw) {
          const int64_t ih = h.position(o[2], kh), iw = wd.position(o[3], kw);
          if (ih < 0 || ih >= h.in || iw < 0 || iw >= wd.in) continue;
          double term = double(x[ravel({o[0], first_channel + ci, ih, iw}, c.x)]) *
                        w[ravel({o[1], ci, kh, kw}, c.weight())];
          sum += term;
          size += std::fabs(term);
        }
      }
    }
    expected[i] = sum;
    scale[i] = size;
  }
}

TEST(Depthwise, RecognizesDepthwiseConvolutionsOnly) {
  const CpuTarget target = CpuTarget::host();
  for (const ConvCase& c : kConvCases) {
    ir::Task task = c.task();
    EXPECT_TRUE(schedules::plan_depthwise(task, target).has_value()) << c.str();
    EXPECT_EQ(schedule_of(implement_cpu(task, target)).rfind("depthwise_cpu", 0), 0u) << c.str();
  }
  // An ordinary convolution is the GEMM template's; a max pool is not a convolution.
  ir::Task dense =
      lower_op("Conv", {{1, 16, 14, 14}, {32, 16, 3, 3}}, {{"pads", Shape{1, 1, 1, 1}}});
  EXPECT_FALSE(schedules::plan_depthwise(dense, target).has_value());
  ir::Task pool = lower_op("MaxPool", {{1, 4, 12, 12}}, {{"kernel_shape", Shape{3, 3}}});
  EXPECT_FALSE(schedules::plan_depthwise(pool, target).has_value());
}

TEST(Depthwise, WindowInteriorIsProven) {
  // 3 × 3, stride 2, pads 1: row 0 reads row -1, the last row 2 · 55 + 1 = 111 < 112.
  auto form = schedules::analyze_window(
      ConvCase{{1, 4, 112, 112}, 1, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false}.task());
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->window, 9);
  EXPECT_EQ(form->row_begin, 1);
  EXPECT_EQ(form->row_end, 56);
  EXPECT_EQ(form->col_begin, 1);
  EXPECT_EQ(form->col_end, 56);
}

// A channels-last pool (the layout pass's NhwcAveragePool / NhwcMaxPool) auto-scheduled (as
// it is where its channels do not fill whole vectors), one vector of channels per output
// pixel: its padded window positions are loads
// under a condition that does not change along the channels, which hoist_guarded_loads turns
// into blends so that GCC vectorizes the channel loop. Both match a reference on random data.
TEST(Pool, ChannelsLastPaddedPoolsBlendTheirGuardedLoads) {
  const Shape x_shape = {1, 9, 10, 32};  // N, H, W, C
  const int64_t oh = 5, ow = 10;         // 3 x 3, strides (2, 1), pads 1 on every side
  for (const std::string type : {"NhwcAveragePool", "NhwcMaxPool"}) {
    graph::OperatorNode op;
    op.type = op.name = type;
    op.domain = graph::kTaskmapDomain;
    op.attrs = {
        {"kernel_shape", Shape{3, 3}}, {"strides", Shape{2, 1}}, {"pads", Shape{1, 1, 1, 1}}};
    op.inputs.push_back(graph::make_tensor("x", ir::f32, graph::to_shape(x_shape)));
    op.outputs.push_back(graph::make_tensor("y", ir::f32, {}));
    ir::Task task = graph::lower_operator(op).task;
    EXPECT_FALSE(schedules::plan_pool(task, CpuTarget::host()).has_value()) << type;
    ir::Function kernel = schedules::auto_schedule_cpu(task);
    EXPECT_GT(count_of(ir::to_string(passes::lower(kernel, {})), "blend<"), 0) << type;
    std::vector<CompiledKernel> compiled = compile_kernels({kernel}, CompileOptions{});
    std::vector<float> x = random_data(numel(x_shape)), y = poisoned(oh * ow * 32);
    compiled[0]({x.data(), y.data()});
    std::vector<double> expected;
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t c = 0; c < 32; ++c) {
          double sum = 0, best = -INFINITY;
          int count = 0;
          for (int64_t r = 0; r < 3; ++r)
            for (int64_t t = 0; t < 3; ++t) {
              const int64_t h = i * 2 - 1 + r, w = j - 1 + t;
              if (h < 0 || h >= 9 || w < 0 || w >= 10) continue;
              const double v = x[ravel({0, h, w, c}, x_shape)];
              sum += v;
              best = std::max(best, v);
              ++count;
            }
          expected.push_back(type == "NhwcMaxPool" ? best : sum / count);
        }
    expect_close(y, expected, type, 1e-5);
  }
}

// The channels-last windows (NhwcDepthwiseConv and the NHWC pools) take the channels-last
// window template: interior tiles of pixels without masks, border pixels one at a time, channel
// groups where the image has few rows. Each matches a reference on random data, strided and
// padded, at both a large and a small image.
TEST(ChannelsLastWindow, TemplateMatchesReference) {
  struct Case {
    std::string type;
    Shape x;  // N, H, W, C
    int64_t stride_h, stride_w;
  };
  const std::vector<Case> cases = {
      {"NhwcDepthwiseConv", {1, 9, 13, 48}, 1, 1}, {"NhwcDepthwiseConv", {1, 9, 10, 32}, 2, 1},
      {"NhwcDepthwiseConv", {2, 3, 6, 64}, 1, 2},  {"NhwcMaxPool", {1, 9, 10, 32}, 2, 1},
      {"NhwcAveragePool", {1, 9, 10, 32}, 2, 1},   {"NhwcAveragePool", {1, 4, 12, 16}, 1, 1},
  };
  for (const Case& c : cases) {
    const int64_t h = c.x[1], w = c.x[2], ch = c.x[3];
    const int64_t oh = (h + 2 - 3) / c.stride_h + 1, ow = (w + 2 - 3) / c.stride_w + 1;
    const bool conv = c.type == "NhwcDepthwiseConv";
    graph::OperatorNode op;
    op.type = op.name = c.type;
    op.domain = graph::kTaskmapDomain;
    op.attrs = {{"kernel_shape", Shape{3, 3}},
                {"strides", Shape{c.stride_h, c.stride_w}},
                {"pads", Shape{1, 1, 1, 1}}};
    op.inputs.push_back(graph::make_tensor("x", ir::f32, graph::to_shape(c.x)));
    if (conv) {
      op.attrs["group"] = ch;
      op.inputs.push_back(graph::make_tensor("w", ir::f32, {3, 3, ch}));
      op.inputs.push_back(graph::make_tensor("b", ir::f32, {ch}));
    }
    op.outputs.push_back(graph::make_tensor("y", ir::f32, {}));
    ir::Task task = graph::lower_operator(op).task;
    const std::string what = c.type + " " + shape_str(c.x);
    ir::Function kernel = implement_cpu(task, CpuTarget::host());
    EXPECT_EQ(schedule_of(kernel).rfind("channels_last_window_cpu", 0), 0u) << what;
    std::vector<CompiledKernel> compiled = compile_kernels({kernel}, CompileOptions{});
    std::vector<float> x = random_data(numel(c.x)), wt = random_data(9 * ch),
                       bias = random_data(ch), y = poisoned(c.x[0] * oh * ow * ch);
    if (conv) {
      compiled[0]({x.data(), wt.data(), bias.data(), y.data()});
    } else {
      compiled[0]({x.data(), y.data()});
    }
    std::vector<double> expected;
    for (int64_t n = 0; n < c.x[0]; ++n)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j)
          for (int64_t k = 0; k < ch; ++k) {
            double sum = 0, best = -INFINITY;
            int count = 0;
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t t = 0; t < 3; ++t) {
                const int64_t hi = i * c.stride_h - 1 + r, wi = j * c.stride_w - 1 + t;
                if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                const double v = x[ravel({n, hi, wi, k}, c.x)];
                sum += conv ? v * wt[(r * 3 + t) * ch + k] : v;
                best = std::max(best, v);
                ++count;
              }
            expected.push_back(conv ? sum + bias[k] : c.type == "NhwcMaxPool" ? best : sum / count);
          }
    expect_close(y, expected, what, 1e-5);
    if (c.type != "NhwcMaxPool") continue;
    // A NaN in a window makes that output NaN (as numpy.maximum), and no other.
    const int64_t hn = h / 2, wn = w / 2, kn = ch / 3;
    x[ravel({0, hn, wn, kn}, c.x)] = std::nanf("");
    y = poisoned(y.size());
    compiled[0]({x.data(), y.data()});
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t k = 0; k < ch; ++k) {
          const int64_t dh = hn - (i * c.stride_h - 1), dw = wn - (j * c.stride_w - 1);
          const bool covers = k == kn && dh >= 0 && dh < 3 && dw >= 0 && dw < 3;
          EXPECT_EQ(std::isnan(y[(i * ow + j) * ch + k]), covers)
              << what << " at " << i << ", " << j;
        }
  }
}

// The kernels of `tasks` for `target`, through implement_cpu.
std::vector<CompiledKernel> compile_for(const std::vector<ir::Task>& tasks,
                                        const CpuTarget& target) {
  std::vector<ir::Function> kernels;
  for (const ir::Task& t : tasks) kernels.push_back(implement_cpu(t, target));
  CompileOptions options;
  options.target = target;
  return compile_kernels(kernels, options);
}

// Besides the machine's own target: 8 and 4 lanes, one vector per tile row, and more cores than
// planes (planes split into row bands). The machine running the test may have more; fine.
const std::vector<std::string> kOtherTargets = {"cpu:avx2,cores=16", "cpu:generic,cores=3"};

void check_convs(const std::vector<ConvCase>& cases, const CpuTarget& target) {
  std::vector<ir::Task> tasks;
  for (const ConvCase& c : cases) tasks.push_back(c.task());
  std::vector<CompiledKernel> kernels = compile_for(tasks, target);
  for (size_t t = 0; t < cases.size(); ++t) {
    const ConvCase& c = cases[t];
    SCOPED_TRACE(c.str() + " on " + target.str());
    const Shape out = tasks[t].output_params()[0].type().shape();
    std::vector<std::vector<float>> inputs = {random_data(numel(c.x)),
                                              random_data(numel(c.weight()))};
    if (c.bias) inputs.push_back(random_data(c.groups() * c.multiplier));
    std::vector<float> actual = run(kernels[t], tasks[t], inputs);
    std::vector<double> expected, scale;
    conv_reference(c, out, inputs[0], inputs[1], c.bias ? &inputs[2] : nullptr, expected, scale);
    expect_close(actual, expected, scale, "depthwise conv " + c.str());
  }
}

TEST(Depthwise, TemplateMatchesReference) {
  check_convs(kConvCases, CpuTarget::host());
}

TEST(Depthwise, OtherTargetsMatchReference) {
  const std::vector<ConvCase> cases(kConvCases.begin(), kConvCases.begin() + 6);
  for (const std::string& target : kOtherTargets) check_convs(cases, CpuTarget::parse(target));
}

// ---- window pooling --------------------------------------------------------------------------

struct PoolCase {
  std::string type;  // MaxPool or AveragePool
  Shape x;
  Shape kernel, strides, pads, dilations;
  bool ceil_mode = false, count_include_pad = false;
  std::string str() const {
    return type + " " + shape_str(x) + " k" + shape_str(kernel) + " s" + shape_str(strides) + " p" +
           shape_str(pads) + " d" + shape_str(dilations) + (ceil_mode ? " ceil" : "") +
           (count_include_pad ? " include_pad" : "");
  }
  Dim dim(int d) const {
    return {x[2 + d], kernel[d], strides[d], dilations[d], pads[d], pads[2 + d]};
  }
  ir::Task task() const {
    std::map<std::string, AttrValue> attrs = {{"kernel_shape", kernel},
                                              {"strides", strides},
                                              {"pads", pads},
                                              {"ceil_mode", int64_t{ceil_mode}}};
    if (type == "MaxPool") attrs["dilations"] = dilations;
    if (type == "AveragePool") attrs["count_include_pad"] = int64_t{count_include_pad};
    return lower_op(type, {x}, attrs);
  }
};

const std::vector<PoolCase> kPoolCases = {
    {"MaxPool", {1, 8, 112, 112}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
    {"MaxPool", {1, 3, 13, 11}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
    {"MaxPool", {2, 4, 14, 15}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"MaxPool", {1, 2, 11, 11}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true},
    {"MaxPool", {1, 3, 19, 21}, {3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}},
    {"MaxPool", {1, 2, 40, 41}, {5, 5}, {3, 3}, {0, 1, 2, 3}, {1, 1}},
    {"AveragePool", {1, 5, 17, 13}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
    {"AveragePool", {1, 5, 17, 13}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false, true},
    {"AveragePool", {2, 3, 9, 10}, {5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}},
    {"AveragePool", {1, 4, 32, 35}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true},
};

void pool_reference(const PoolCase& c, const Shape& out, const std::vector<float>& x,
                    std::vector<double>& expected, std::vector<double>& scale) {
  expected.assign(numel(out), 0.0);
  scale.assign(numel(out), 0.0);
  const Dim h = c.dim(0), w = c.dim(1);
  const bool max = c.type == "MaxPool";
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> o = unravel(i, out);
    double best = -std::numeric_limits<double>::infinity(), sum = 0, size = 0;
    int64_t count = 0;
    for (int64_t kh = 0; kh < h.kernel; ++kh) {
      for (int64_t kw = 0; kw < w.kernel; ++kw) {
        const int64_t ih = h.position(o[2], kh), iw = w.position(o[3], kw);
        const bool padded = ih >= -h.pad_begin && ih < h.in + h.pad_end && iw >= -w.pad_begin &&
                            iw < w.in + w.pad_end;
        count += c.count_include_pad ? padded : 0;
        if (ih < 0 || ih >= h.in || iw < 0 || iw >= w.in) continue;
        count += c.count_include_pad ? 0 : 1;
        const double v = x[ravel({o[0], o[1], ih, iw}, c.x)];
        best = std::max(best, v);
        sum += v;
        size += std::fabs(v);
      }
    }
    expected[i] = max ? best : sum / double(count);
    scale[i] = max ? std::fabs(best) : size / double(count);
  }
}

TEST(Pool, TemplateIsPicked) {
  const CpuTarget target = CpuTarget::host();
  for (const PoolCase& c : kPoolCases) {
    ir::Task task = c.task();
    EXPECT_TRUE(schedules::plan_pool(task, target).has_value()) << c.str();
    EXPECT_EQ(schedule_of(implement_cpu(task, target)).rfind("pool_cpu", 0), 0u) << c.str();
  }
  // MaxPool with Indices is an argmax: not this template's.
  graph::OperatorNode op;
  op.type = "MaxPool";
  op.attrs = {{"kernel_shape", Shape{2, 2}}};
  op.inputs = {graph::make_tensor("x", ir::f32, {1, 2, 8, 8})};
  op.outputs = {graph::make_tensor("y", ir::f32, {}), graph::make_tensor("i", ir::i64, {})};
  EXPECT_FALSE(schedules::plan_pool(graph::lower_operator(op).task, target).has_value());
}

void check_pools(const std::vector<PoolCase>& cases, const CpuTarget& target) {
  std::vector<ir::Task> tasks;
  for (const PoolCase& c : cases) tasks.push_back(c.task());
  std::vector<CompiledKernel> kernels = compile_for(tasks, target);
  for (size_t t = 0; t < cases.size(); ++t) {
    const PoolCase& c = cases[t];
    SCOPED_TRACE(c.str() + " on " + target.str());
    const Shape out = tasks[t].output_params()[0].type().shape();
    std::vector<std::vector<float>> inputs = {random_data(numel(c.x))};
    std::vector<float> actual = run(kernels[t], tasks[t], inputs);
    std::vector<double> expected, scale;
    pool_reference(c, out, inputs[0], expected, scale);
    expect_close(actual, expected, scale, c.str());
  }
}

TEST(Pool, TemplateMatchesReference) {
  check_pools(kPoolCases, CpuTarget::host());
}

TEST(Pool, OtherTargetsMatchReference) {
  const std::vector<PoolCase> cases = {kPoolCases[0], kPoolCases[3], kPoolCases[4], kPoolCases[7]};
  for (const std::string& target : kOtherTargets) check_pools(cases, CpuTarget::parse(target));
}

// A NaN reaches exactly the windows that hold it, as in the auto-scheduled max pool.
TEST(Pool, MaxPoolPropagatesNaN) {
  const PoolCase c = {"MaxPool", {1, 1, 20, 37}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}};
  ir::Task task = c.task();
  std::vector<CompiledKernel> kernels = compile_all({task});
  const Shape out = task.output_params()[0].type().shape();
  std::vector<std::vector<float>> inputs = {random_data(numel(c.x))};
  const int64_t nan_h = 7, nan_w = 21;  // in two window rows and two window columns
  inputs[0][ravel({0, 0, nan_h, nan_w}, c.x)] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> actual = run(kernels[0], task, inputs);
  std::vector<double> expected, scale;
  pool_reference(c, out, inputs[0], expected, scale);
  const Dim h = c.dim(0), w = c.dim(1);
  int nans = 0;
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> o = unravel(i, out);
    const int64_t dh = nan_h - h.position(o[2], 0), dw = nan_w - w.position(o[3], 0);
    const bool covers = dh >= 0 && dh < h.kernel && dw >= 0 && dw < w.kernel;
    nans += covers;
    if (covers) {
      EXPECT_TRUE(std::isnan(actual[i])) << "output " << shape_str(o);
    } else {
      EXPECT_EQ(actual[i], float(expected[i])) << "output " << shape_str(o);
    }
  }
  EXPECT_EQ(nans, 4);
}

// ---- row reductions --------------------------------------------------------------------------

struct RowCase {
  std::string type;
  Shape x;
  std::map<std::string, AttrValue> attrs;
  int64_t rows, length;  // the input as [rows, length] (the reduced axes are the last ones)
  bool max;
};

const std::vector<RowCase> kRowCases = {
    {"GlobalAveragePool", {1, 37, 7, 7}, {}, 37, 49, false},
    {"GlobalAveragePool", {2, 16, 13, 11}, {}, 32, 143, false},
    {"GlobalAveragePool", {1, 8, 56, 56}, {}, 8, 3136, false},
    {"GlobalMaxPool", {1, 5, 9, 9}, {}, 5, 81, true},
    {"ReduceMean", {2, 6, 10, 3}, {{"axes", Shape{2, 3}}}, 12, 30, false},
    {"ReduceSum", {6, 50}, {{"axes", Shape{-1}}, {"keepdims", int64_t{0}}}, 6, 50, false},
    {"ReduceMax", {3, 4, 17}, {{"axes", Shape{2}}}, 12, 17, true},
};

void check_rows(const std::vector<RowCase>& cases, const CpuTarget& target) {
  std::vector<ir::Task> tasks;
  for (const RowCase& c : cases) {
    tasks.push_back(lower_op(c.type, {c.x}, c.attrs));
    EXPECT_EQ(schedule_of(implement_cpu(tasks.back(), target)).rfind("row_reduce_cpu", 0), 0u)
        << c.type << " " << shape_str(c.x);
  }
  std::vector<CompiledKernel> kernels = compile_for(tasks, target);
  for (size_t t = 0; t < cases.size(); ++t) {
    const RowCase& c = cases[t];
    SCOPED_TRACE(c.type + " " + shape_str(c.x) + " on " + target.str());
    std::vector<std::vector<float>> inputs = {random_data(numel(c.x))};
    std::vector<float> actual = run(kernels[t], tasks[t], inputs);
    ASSERT_EQ(int64_t(actual.size()), c.rows);
    std::vector<double> expected(c.rows), scale(c.rows);
    for (int64_t r = 0; r < c.rows; ++r) {
      double sum = 0, size = 0, best = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < c.length; ++k) {
        const double v = inputs[0][r * c.length + k];
        sum += v;
        size += std::fabs(v);
        best = std::max(best, v);
      }
      const bool mean = c.type != "ReduceSum";
      expected[r] = c.max ? best : mean ? sum / double(c.length) : sum;
      scale[r] = c.max ? std::fabs(best) : mean ? size / double(c.length) : size;
    }
    expect_close(actual, expected, scale, c.type);
  }
}

TEST(RowReduce, TemplateMatchesReference) {
  check_rows(kRowCases, CpuTarget::host());
}

TEST(RowReduce, OtherTargetsMatchReference) {
  const std::vector<RowCase> cases = {kRowCases[0], kRowCases[3], kRowCases[5]};
  for (const std::string& target : kOtherTargets) check_rows(cases, CpuTarget::parse(target));
}

// ---- fused graphs ----------------------------------------------------------------------------

// The templates' kernels take their epilogues (BatchNormalization, Clip, Relu, Add) through
// post-scheduling fusion, and fused and unfused plans agree.
TEST(DepthwisePool, FusedAndUnfusedPlansAgree) {
  using graph::GraphBuilder;
  using graph::Tensor;
  struct Case {
    std::string name, schedule;
    Shape shape;
    std::function<Tensor(GraphBuilder&, Tensor)> body;
  };
  const std::vector<Case> cases = {
      {"depthwise conv + batch norm + relu6",
       "depthwise_cpu",
       {1, 24, 30, 29},
       [](GraphBuilder& b, Tensor x) {
         Tensor y = b.conv2d(b.relu(x), b.weight({24, 1, 3, 3}), nullptr,
                             {.strides = {2, 2}, .pads = {1, 1, 1, 1}, .group = 24});
         return b.relu6(b.batch_norm(y));
       }},
      {"depthwise conv 5x5 + bias + relu",
       "depthwise_cpu",
       {1, 16, 21, 22},
       [](GraphBuilder& b, Tensor x) {
         Tensor y = b.conv2d(x, b.weight({16, 1, 5, 5}), b.weight({16}, 1.0),
                             {.pads = {2, 2, 2, 2}, .group = 16});
         return b.relu(b.batch_norm(y));
       }},
      {"max pool + relu",
       "pool_cpu",
       {1, 8, 33, 35},
       [](GraphBuilder& b, Tensor x) {
         return b.relu(
             b.max_pool(b.add(x, b.scalar(0.5)), {.kernel = {3, 3}, .pads = {1, 1, 1, 1}}));
       }},
      {"global average pool + add",
       "row_reduce_cpu",
       {1, 40, 9, 9},
       [](GraphBuilder& b, Tensor x) {
         return b.add(b.global_average_pool(b.relu(x)), b.weight({1, 40, 1, 1}, 1.0));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto graph = [&] {
      GraphBuilder b("chain", /*seed=*/11);
      graph::Tensor x = b.input("x", ir::f32, graph::to_shape(c.shape));
      b.output(c.body(b, x), "y");
      return b.build();
    };
    CompileReport with = expect_fusion_keeps_results(graph, c.shape, c.name);
    bool picked = false;
    for (const std::string& label : with.kernel_labels)
      picked = picked || label.find(c.schedule) != std::string::npos;
    EXPECT_TRUE(picked) << "no kernel label names " << c.schedule;
  }
}

}  // namespace
}  // namespace taskmap::testing
