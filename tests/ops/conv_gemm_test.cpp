// Convolutions on the packed GEMM template (schedules/gemm_cpu.h), lowered by the Conv operator's
// own definition: a stride-1 padded window is recognized as a contiguous B factor (its vectors
// are masked loads of a shifted image), other windows gather theirs, and every kernel matches a
// double-precision reference on fresh random data on the AVX-512, AVX2 and generic targets,
// whose masked loads take three different code paths.
#include <map>

#include "ops/ops_support.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/ir/printer.h"
#include "taskmap/schedules/gemm_cpu.h"
#include "taskmap/target.h"

namespace taskmap::testing {
namespace {

struct ConvCase {
  Shape x;  // N, C, H, W
  int64_t out_channels;
  Shape kernel, strides, pads, dilations;
  bool contiguous;  // whether B is expected to be a contiguous factor

  Shape weight() const { return {out_channels, x[1], kernel[0], kernel[1]}; }
  int64_t out_dim(int d) const {
    const int64_t span = dilations[d] * (kernel[d] - 1) + 1;
    return (x[2 + d] + pads[d] + pads[2 + d] - span) / strides[d] + 1;
  }
  Shape out() const { return {x[0], out_channels, out_dim(0), out_dim(1)}; }
  std::string str() const {
    return "x " + shape_str(x) + " -> " + std::to_string(out_channels) + ", kernel " +
           shape_str(kernel) + ", strides " + shape_str(strides) + ", pads " + shape_str(pads) +
           ", dilations " + shape_str(dilations);
  }

  // The Conv, or channels last the NhwcConv of x transposed to [N, H, W, C].
  ir::Task task(bool channels_last = false) const {
    graph::OperatorNode op;
    op.type = op.name = channels_last ? "NhwcConv" : "Conv";
    if (channels_last) op.domain = graph::kTaskmapDomain;
    op.attrs = {
        {"kernel_shape", kernel}, {"strides", strides}, {"pads", pads}, {"dilations", dilations}};
    const Shape image = channels_last ? Shape{x[0], x[2], x[3], x[1]} : x;
    op.inputs.push_back(graph::make_tensor("x", ir::f32, graph::to_shape(image)));
    op.inputs.push_back(graph::make_tensor("w", ir::f32, graph::to_shape(weight())));
    op.outputs.push_back(graph::make_tensor("y", ir::f32, {}));
    return graph::lower_operator(op).task;
  }

  std::vector<double> reference(const std::vector<float>& in, const std::vector<float>& w) const {
    const Shape o = out();
    std::vector<double> y(static_cast<size_t>(numel(o)));
    for (int64_t n = 0; n < o[0]; ++n)
      for (int64_t co = 0; co < o[1]; ++co)
        for (int64_t oh = 0; oh < o[2]; ++oh)
          for (int64_t ow = 0; ow < o[3]; ++ow) {
            double sum = 0;
            for (int64_t c = 0; c < x[1]; ++c)
              for (int64_t r = 0; r < kernel[0]; ++r)
                for (int64_t s = 0; s < kernel[1]; ++s) {
                  const int64_t ih = oh * strides[0] - pads[0] + r * dilations[0];
                  const int64_t iw = ow * strides[1] - pads[1] + s * dilations[1];
                  if (ih < 0 || ih >= x[2] || iw < 0 || iw >= x[3]) continue;
                  sum += double(in[ravel({n, c, ih, iw}, x)]) * w[ravel({co, c, r, s}, weight())];
                }
            y[ravel({n, co, oh, ow}, o)] = sum;
          }
    return y;
  }
};

// Ragged tiles and k blocks, a wide window, pads only after the image, dilation, and windows
// that are not contiguous: the output row narrower than the input row (the flat steps differ),
// a 1×1 window whose padding widens the output, stride 2.
const std::vector<ConvCase> kCases = {
    {{1, 5, 9, 9}, 70, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {{1, 3, 13, 17}, 16, {3, 5}, {1, 1}, {1, 2, 1, 2}, {1, 1}, true},
    {{1, 3, 13, 11}, 20, {3, 3}, {1, 1}, {0, 0, 2, 2}, {1, 1}, true},
    {{1, 9, 20, 11}, 24, {3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, true},
    {{1, 33, 30, 30}, 64, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {{1, 3, 13, 17}, 16, {3, 5}, {1, 1}, {1, 2, 0, 1}, {1, 1}, false},
    {{1, 12, 6, 7}, 40, {1, 1}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false},
    {{1, 6, 15, 15}, 32, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},
};

void check_target(const CpuTarget& target, const std::string& what) {
  CompileOptions options;
  options.target = target;
  std::vector<ir::Function> kernels;
  std::vector<ir::Task> tasks;
  int masked = 0, gathers = 0;
  for (const ConvCase& c : kCases) {
    tasks.push_back(c.task());
    auto plan = schedules::plan_gemm(tasks.back(), target);
    ASSERT_TRUE(plan.has_value()) << c.str();
    // Where the plan vectorizes along output channels instead, B is the weights.
    // Windows read across memory (stride 2, an output row narrower than the input's) gather
    // their vectors through a table of column positions.
    const bool gathered = plan->b_contiguous && plan->b_contiguous->position.defined();
    if (plan->form.m_size == c.out_channels) {
      EXPECT_EQ(plan->b_contiguous && !gathered, c.contiguous) << c.str();
      if (c.contiguous) {
        EXPECT_FALSE(gathered) << c.str();
      }
    }
    masked += plan->b_contiguous && !gathered;
    gathers += gathered;
    kernels.push_back(schedules::gemm_cpu(tasks.back(), *plan));
  }
  EXPECT_GE(masked, 3) << what << ": too few cases take the masked-load path";
  EXPECT_GE(gathers, 2) << what << ": too few cases take the masked-gather path";
  std::vector<CompiledKernel> compiled = compile_kernels(kernels, options);
  for (size_t i = 0; i < kCases.size(); ++i) {
    const ConvCase& c = kCases[i];
    std::vector<float> x = random_data(numel(c.x)), w = random_data(numel(c.weight())),
                       y = poisoned(numel(c.out()));
    compiled[i]({x.data(), w.data(), y.data()});
    expect_close(y, c.reference(x, w), what + " conv " + c.str(), 1e-4);
  }
}

TEST(ConvGemm, PaddedStrideOneWindowsAreContiguous) {
  for (const ConvCase& c : kCases) {
    auto form = schedules::analyze_gemm(c.task());
    ASSERT_TRUE(form.has_value()) << c.str();
    // Output channels are M (the weights), pixels N (the image): B is the image.
    EXPECT_EQ(form->m_size, c.out_channels) << c.str();
    EXPECT_EQ(schedules::contiguous_b(*form).has_value(), c.contiguous) << c.str();
  }
}

// A stride-2 window read along n is a gather: with constant weights the plan vectorizes along
// the output channels instead, so the image is packed along k. Both plans are right.
TEST(ConvGemm, StridedWindowsVectorizeAlongConstantWeights) {
  const ConvCase c{{1, 6, 15, 15}, 64, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false};
  const ir::Task task = c.task();
  const CpuTarget target = CpuTarget::host();
  auto image_b = schedules::plan_gemm(task, target);
  auto weight_b = schedules::plan_gemm(task, target, {false, true});
  ASSERT_TRUE(image_b.has_value() && weight_b.has_value());
  EXPECT_EQ(image_b->form.m_size, c.out_channels);
  EXPECT_EQ(weight_b->form.n_size, c.out_channels);
  // With stride 1 the image is read along memory and keeps B.
  const ConvCase s{{1, 6, 16, 16}, 64, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true};
  auto stride_one = schedules::plan_gemm(s.task(), target, {false, true});
  ASSERT_TRUE(stride_one.has_value());
  EXPECT_EQ(stride_one->form.m_size, s.out_channels);

  std::vector<CompiledKernel> compiled = compile_kernels(
      {schedules::gemm_cpu(task, *image_b), schedules::gemm_cpu(task, *weight_b)}, {});
  std::vector<float> x = random_data(numel(c.x)), w = random_data(numel(c.weight()));
  const std::vector<double> expected = c.reference(x, w);
  for (const CompiledKernel& kernel : compiled) {
    std::vector<float> y = poisoned(numel(c.out()));
    kernel({x.data(), w.data(), y.data()});
    expect_close(y, expected, "stride-2 conv " + c.str(), 1e-4);
  }
}

// With constant weights and few pixels (ResNet-50's last stages), the plan vectorizes along
// the output channels and the image becomes A, packed along the pixels: a bare 1×1 read copies
// rows with plain vectors, a padded stride-1 window with masked loads, a stride-2 window stays
// with the panels along k. Each plan is checked on the host, AVX2 and generic targets.
TEST(ConvGemm, ImageAsAPacksAlongPixels) {
  struct Expected {
    ConvCase conv;
    bool along_m, masked;
  };
  const std::vector<Expected> cases = {
      {{{1, 20, 7, 7}, 128, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true}, true, true},
      {{{1, 33, 7, 7}, 128, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true}, true, true},
      {{{1, 9, 5, 5}, 64, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true}, true, true},
      {{{1, 40, 7, 7}, 128, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, true, false},
      {{{1, 300, 5, 5}, 64, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, true, false},
      {{{1, 16, 11, 11}, 128, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false}, false, false},
  };
  int checked = 0;
  for (const CpuTarget& target :
       {CpuTarget::host(), CpuTarget::parse("cpu:avx2"), CpuTarget::parse("cpu:generic")}) {
    CompileOptions options;
    options.target = target;
    std::vector<ir::Function> kernels;
    std::vector<ir::Task> tasks;
    for (const Expected& e : cases) {
      tasks.push_back(e.conv.task());
      auto plan = schedules::plan_gemm(tasks.back(), target, {false, true});
      ASSERT_TRUE(plan.has_value()) << e.conv.str();
      // The orientation depends on the panel width: these cases flip with 64-wide panels
      // (AVX-512); narrower ones may keep the image as B, which must be right too.
      if (plan->config.micro_n == 64) {
        ASSERT_EQ(plan->form.n_size, e.conv.out_channels) << target.str() << " " << e.conv.str();
        EXPECT_EQ(plan->a_along_m, e.along_m) << target.str() << " " << e.conv.str();
        EXPECT_EQ(plan->a_contiguous.has_value(), e.masked) << target.str() << " " << e.conv.str();
        checked += 1;
      }
      kernels.push_back(schedules::gemm_cpu(tasks.back(), *plan));
      // The output runs along the pixels, the rows here: the micro-kernel asks for the line of
      // each of its columns ahead of the epilogue.
      if (plan->form.n_size == e.conv.out_channels) {
        EXPECT_EQ(count_of(ir::to_string(kernels.back()), "prefetch_write("), plan->config.micro_n)
            << target.str() << " " << e.conv.str();
      }
    }
    std::vector<CompiledKernel> compiled = compile_kernels(kernels, options);
    for (size_t i = 0; i < cases.size(); ++i) {
      const ConvCase& c = cases[i].conv;
      std::vector<float> x = random_data(numel(c.x)), w = random_data(numel(c.weight())),
                         y = poisoned(numel(c.out()));
      compiled[i]({x.data(), w.data(), y.data()});
      expect_close(y, c.reference(x, w), target.str() + " image-as-A conv " + c.str(), 1e-4);
    }
  }
  if (CpuTarget::host().isa == CpuTarget::Isa::avx512) {
    EXPECT_GE(checked, static_cast<int>(cases.size())) << "the AVX-512 plans were not checked";
  }
}

// NhwcConv (the layout pass's channels-last convolution): the image is A, its channels the last
// reduction axis. Where they come in whole vectors it is packed as rows of runs of channels;
// a 1×1 window reads it in place, and so does an unpadded window (the micro-kernel walks it); 3
// channels (a stem) take the panels; 96 and 16 output channels take narrower register tiles.
// Every target's kernels
// match the NCHW reference on the same data.
TEST(ConvGemm, ChannelsLastImagePacksAsRows) {
  struct Expected {
    ConvCase conv;
    bool rows, in_place, window;
  };
  const std::vector<Expected> cases = {
      {{{1, 32, 9, 9}, 64, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false}, true, false, false},
      {{{1, 32, 9, 9}, 96, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false}, true, false, false},
      // A width of 14: panels of 7 rows line up with the image rows (AVX-512).
      {{{1, 64, 14, 14}, 64, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false}, true, false, false},
      {{{1, 48, 7, 8}, 64, {5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}, false}, true, false, false},
      {{{1, 288, 5, 5}, 64, {3, 3}, {1, 1}, {1, 0, 1, 0}, {1, 1}, false}, true, false, false},
      {{{1, 16, 11, 11}, 128, {3, 3}, {2, 2}, {1, 1, 1, 1}, {2, 1}, false}, true, false, false},
      // K = 2304 against packed weights: k blocks deeper than the L1-sized ones, bounded by L2
      // (ResNet-50's stride-2 3 x 3 layers).
      {{{1, 256, 9, 9}, 64, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false}, true, false, false},
      {{{1, 40, 7, 7}, 64, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, false, true, false},
      {{{1, 64, 9, 9}, 64, {1, 1}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false}, false, true, false},
      {{{1, 32, 9, 9}, 16, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, false, true, false},
      {{{1, 3, 15, 15}, 64, {7, 7}, {2, 2}, {3, 3, 3, 3}, {1, 1}, false}, false, false, false},
      // Unpadded windows, read in place: panels crossing output rows, a ragged last panel,
      // a stride, a dilation.
      {{{1, 32, 9, 11}, 64, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, false, false, true},
      {{{1, 32, 11, 11}, 48, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false}, false, false, true},
      {{{1, 16, 9, 9}, 32, {3, 3}, {1, 1}, {0, 0, 0, 0}, {2, 2}, false}, false, false, true},
      // A window row of 3 x 288 = 864 steps, past what a packed k block holds on AVX-512: one
      // k block per row (Inception-v3's Mixed_6a).
      {{{1, 288, 9, 9}, 64, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false}, false, false, true},
      // An unpadded stem (3 channels) too: A broadcast element by element needs no vectors.
      {{{1, 3, 15, 15}, 64, {7, 7}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false}, false, false, true},
      // 10 channels: the channel loop runs two steps of four and a remainder of two.
      {{{1, 10, 9, 9}, 64, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false}, false, false, true},
  };
  for (const CpuTarget& target :
       {CpuTarget::host(), CpuTarget::parse("cpu:avx2"), CpuTarget::parse("cpu:generic")}) {
    CompileOptions options;
    options.target = target;
    std::vector<ir::Function> kernels;
    for (const Expected& e : cases) {
      ir::Task task = e.conv.task(/*channels_last=*/true);
      auto plan = schedules::plan_gemm(task, target, {false, true});
      ASSERT_TRUE(plan.has_value()) << e.conv.str();
      const std::string what = target.str() + " " + e.conv.str();
      EXPECT_EQ(plan->form.n_size, e.conv.out_channels) << what;
      EXPECT_EQ(plan->a_in_place, e.in_place) << what;
      EXPECT_EQ(plan->a_rows_run > 0, e.rows) << what;
      EXPECT_EQ(plan->a_window, e.window) << what;
      // 96 channels take panels of 32 (12 rows tall) where the register tile is 64 wide.
      if (e.conv.out_channels == 96 && schedules::default_gemm_config(target).micro_n == 64) {
        EXPECT_EQ(plan->config.micro_n, 32) << what;
        EXPECT_EQ(plan->config.micro_m, 12) << what;
        // The b panel (block_k x 32) fills L1 as the 64-wide one does: twice as deep.
        EXPECT_EQ(plan->config.block_k, 2 * schedules::default_gemm_config(target).block_k) << what;
      }
      // 16 channels take one panel of 16, 28 rows tall: 81 pixels fill 3 of those (84 rows)
      // better than 4 of 24.
      if (e.conv.out_channels == 16 && schedules::default_gemm_config(target).micro_n == 64) {
        EXPECT_EQ(plan->config.micro_n, 16) << what;
        EXPECT_EQ(plan->config.micro_m, 28) << what;
      }
      kernels.push_back(schedules::gemm_cpu(task, *plan));
      if (e.window) {
        // The micro-kernel's channel loop (8 or more steps) runs four steps an iteration.
        const std::string text = ir::to_string(kernels.back());
        EXPECT_EQ(count_of(text, "in range(4) unroll") > 0, e.conv.x[1] >= 8) << what << text;
      }
      if (e.rows) {
        // A padded image packed as rows marks the a panels that hold a pixel inside it, and the
        // micro-kernel skips the k blocks of the others (their sums stay zero).
        EXPECT_GT(count_of(ir::to_string(kernels.back()), "a_live"), 0) << what;
        if (e.conv.x[3] == 14 && target.isa == CpuTarget::Isa::avx512) {
          EXPECT_EQ(plan->config.micro_m, 7) << what;
        }
        EXPECT_EQ(plan->tiling.block_k % plan->a_rows_run, 0) << what;
        if (e.conv.x[1] == 256) {
          EXPECT_GT(plan->tiling.block_k, schedules::default_gemm_config(target).block_k) << what;
          EXPECT_GE(plan->tiling.padded_k(), 2304) << what;
        }
        EXPECT_EQ(e.conv.x[1] % plan->a_rows_run, 0) << what;
        EXPECT_EQ(plan->a_rows_run % plan->config.lanes, 0) << what;
      }
    }
    std::vector<CompiledKernel> compiled = compile_kernels(kernels, options);
    for (size_t i = 0; i < cases.size(); ++i) {
      const ConvCase& c = cases[i].conv;
      const Shape o = c.out();
      std::vector<float> x = random_data(numel(c.x)), w = random_data(numel(c.weight())),
                         y = poisoned(numel(o));
      std::vector<float> x_nhwc(x.size());
      for (int64_t ch = 0; ch < c.x[1]; ++ch)
        for (int64_t h = 0; h < c.x[2]; ++h)
          for (int64_t v = 0; v < c.x[3]; ++v)
            x_nhwc[(h * c.x[3] + v) * c.x[1] + ch] = x[ravel({0, ch, h, v}, c.x)];
      compiled[i]({x_nhwc.data(), w.data(), y.data()});
      std::vector<double> expected = c.reference(x, w), expected_nhwc(expected.size());
      for (int64_t ch = 0; ch < o[1]; ++ch)
        for (int64_t h = 0; h < o[2]; ++h)
          for (int64_t v = 0; v < o[3]; ++v)
            expected_nhwc[(h * o[3] + v) * o[1] + ch] = expected[ravel({0, ch, h, v}, o)];
      expect_close(y, expected_nhwc, target.str() + " channels-last conv " + c.str(), 1e-4);
    }
  }
}

TEST(ConvGemm, MatchesReferenceOnThisMachine) {
  check_target(CpuTarget::host(), "host");
}

TEST(ConvGemm, MatchesReferenceOnAvx2AndGenericTargets) {
  check_target(CpuTarget::parse("cpu:avx2"), "avx2");
  check_target(CpuTarget::parse("cpu:generic"), "generic");
}

}  // namespace
}  // namespace taskmap::testing
