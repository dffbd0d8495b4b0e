// Whole models compiled for CUDA (ModelOptions::cuda): every kernel of every bundled model
// generates CUDA that NVRTC compiles for sm_90 (and ResNet-50 for sm_80) without a warning, and
// post-scheduling fusion works on the CUDA kernels as on the CPU's. Needs NVRTC, not a GPU;
// running the models against the CPU is the cuda label's job.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "taskmap/build/cuda_compiler.h"
#include "taskmap/error.h"
#include "taskmap/graph/builder.h"
#include "taskmap/model.h"
#include "taskmap/models.h"

namespace taskmap {
namespace {

class CudaModelBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  }

  static ModelOptions cuda_options(const char* target) {
    ModelOptions options;
    options.cuda = CudaTarget::parse(target);
    return options;
  }
};

TEST_F(CudaModelBuild, EveryBundledModelBuildsForSm90WithoutWarnings) {
  for (const std::string& name : models::model_names()) {
    SCOPED_TRACE(name);
    Model model(models::build_model(name), cuda_options("cuda:sm_90"));
    const CompileReport report = model.compile(model.default_bindings());
    EXPECT_GT(report.kernels, 10);
    EXPECT_EQ(static_cast<int>(report.kernel_labels.size()), report.kernels);
    EXPECT_TRUE(report.warnings.empty()) << report.warnings.front();
  }
}

TEST_F(CudaModelBuild, ResNet50BuildsForSm80) {
  Model model(models::build_model("resnet50"), cuda_options("cuda:sm_80"));
  const CompileReport report = model.compile(model.default_bindings());
  EXPECT_TRUE(report.warnings.empty()) << report.warnings.front();
}

// The CPU plan's fusion on CUDA kernels: ResNet-50 keeps its convolutions NCHW on CUDA (no
// channels-last or Winograd rewrites), and each bottleneck's last convolution still takes the
// residual Add and the Relu into its kernel.
TEST_F(CudaModelBuild, FusionRewritesCudaKernels) {
  Model model(models::build_model("resnet50"), cuda_options("cuda:sm_90"));
  const CompileReport fused = model.plan_only(model.default_bindings());
  int conv_add_relu = 0, nhwc = 0;
  for (const std::string& label : fused.kernel_labels) {
    conv_add_relu += label.rfind("Conv", 0) == 0 && label.find("+ Add") != std::string::npos &&
                     label.find("+ Relu") != std::string::npos;
    nhwc += label.find("Nhwc") != std::string::npos || label.find("Winograd") != std::string::npos;
  }
  EXPECT_EQ(conv_add_relu, 16) << "one per bottleneck block";
  EXPECT_EQ(nhwc, 0);

  ModelOptions unfused_options = cuda_options("cuda:sm_90");
  unfused_options.fuse = false;
  Model unfused(models::build_model("resnet50"), unfused_options);
  EXPECT_GT(unfused.plan_only(unfused.default_bindings()).kernels, fused.kernels + 40);
}

// A batch-1 projection (128 × 768 × 768) splits K: the GEMM kernel takes the transposed input
// as its prologue and writes partial sums, the sum kernel takes the bias and the Relu; both
// compile without warnings.
TEST_F(CudaModelBuild, SplitKKernelsTakeThePrologueAndTheEpilogues) {
  graph::GraphBuilder b("projection", /*seed=*/3);
  graph::Tensor x = b.input("x", ir::f32, {768, 128});
  graph::Tensor y = b.matmul(b.transpose(x, {1, 0}), b.weight({768, 768}));
  b.output(b.relu(b.add(y, b.weight({768}, 1.0))), "y");
  Model model(b.build(), cuda_options("cuda:sm_90"));
  const CompileReport report = model.compile(model.default_bindings());
  ASSERT_EQ(report.kernels, 2) << ::testing::PrintToString(report.kernel_labels);
  EXPECT_EQ(report.kernel_labels[0].rfind("Transpose", 0), 0u) << report.kernel_labels[0];
  EXPECT_NE(report.kernel_labels[0].find("split-k 3"), std::string::npos);
  EXPECT_NE(report.kernel_labels[1].find("split-k sum of 3 ranges"), std::string::npos);
  for (const std::string& label : report.kernel_labels)
    EXPECT_NE(label.find("+ Add 'Add_0' + Relu"), std::string::npos) << label;
  EXPECT_EQ(report.warnings, std::vector<std::string>{});
}

// Narrowed models (ModelOptions::precision): BERT-base's matmuls all run on tensor cores in f16;
// ResNet-50's convolutions in bf16 on the templates, none auto-scheduled, all but the stem on
// tensor cores; likewise f32 ResNet-50's with tf32; a bf16 MobileNetV2 compiles without warnings.
TEST_F(CudaModelBuild, NarrowedModelsRunTheirContractionsOnTheTemplates) {
  ModelOptions f16 = cuda_options("cuda:sm_90");
  f16.precision = ir::f16;
  Model bert(models::build_model("bert_base"), f16);
  int matmuls = 0;
  for (const std::string& label : bert.plan_only(bert.default_bindings()).kernel_labels) {
    if (label.rfind("MatMul", 0) != 0 || label.find("split-k sum") != std::string::npos) continue;
    ++matmuls;
    EXPECT_NE(label.find("matmul_mma_cuda (mma.sync m16n8k16 f16"), std::string::npos) << label;
  }
  EXPECT_EQ(matmuls, 96);

  ModelOptions bf16 = cuda_options("cuda:sm_90");
  bf16.precision = ir::bf16;
  Model resnet(models::build_model("resnet50"), bf16);
  int convs = 0, on_tensor_cores = 0;
  for (const std::string& label : resnet.plan_only(resnet.default_bindings()).kernel_labels) {
    if (label.find("Conv '") == std::string::npos || label.find("split-k sum") != std::string::npos)
      continue;
    ++convs;
    EXPECT_NE(label.find("[matmul_"), std::string::npos) << label;
    on_tensor_cores += label.find("mma.sync m16n8k16 bf16") != std::string::npos;
  }
  EXPECT_EQ(convs, 53);
  // All but the stem (K = 3 x 7 x 7 = 147, not whole 16-byte chunks of its weights' rows); the
  // windows, strides and 14 x 14 / 7 x 7 planes stage their images through registers.
  EXPECT_EQ(on_tensor_cores, 52);

  // TF32: f32 ResNet-50's convolutions on tensor cores but the stem.
  ModelOptions tf32 = cuda_options("cuda:sm_90");
  tf32.tf32 = true;
  Model resnet_tf32(models::build_model("resnet50"), tf32);
  int tf32_convs = 0;
  for (const std::string& label :
       resnet_tf32.plan_only(resnet_tf32.default_bindings()).kernel_labels)
    tf32_convs += label.find("mma.sync m16n8k8 tf32") != std::string::npos;
  EXPECT_EQ(tf32_convs, 52);

  Model mobilenet(models::build_model("mobilenet_v2"), bf16);
  const CompileReport report = mobilenet.compile(mobilenet.default_bindings());
  EXPECT_EQ(report.warnings, std::vector<std::string>{});
}

// A staged B is read by plain loads, so the image's producer fuses into the convolution's kernel
// (a copied A, the weights, needs none): the Cast of an f16 model's input (and its output's Cast
// as the epilogue), a Relu with tf32.
TEST_F(CudaModelBuild, ProloguesFuseIntoAStagedB) {
  for (const bool tf32 : {false, true}) {
    graph::GraphBuilder b("conv", /*seed=*/3);
    graph::Tensor x = b.input("x", ir::f32, {1, 16, 14, 14});
    if (tf32) x = b.relu(x);
    b.output(b.conv2d(x, b.weight({32, 16, 3, 3}), b.weight({32}, 1.0), {.pads = {1, 1, 1, 1}}),
             "y");
    ModelOptions options = cuda_options("cuda:sm_90");
    options.precision = tf32 ? ir::f32 : ir::f16;
    options.tf32 = tf32;
    Model model(b.build(), options);
    const CompileReport report = model.compile(model.default_bindings());
    ASSERT_EQ(report.kernels, 1) << ::testing::PrintToString(report.kernel_labels);
    const std::string& conv = report.kernel_labels[0];
    EXPECT_EQ(conv.rfind(tf32 ? "Relu 'Relu_0' -> Conv" : "Cast 'x_f16' -> Conv", 0), 0u) << conv;
    EXPECT_NE(conv.find("B staged"), std::string::npos) << conv;
    EXPECT_EQ(report.warnings, std::vector<std::string>{});
  }
}

// Without a GPU, a compiled model says so when asked to run; the build itself succeeded.
TEST_F(CudaModelBuild, RunningWithoutADeviceIsAUserError) {
  if (CudaTarget::device(0)) GTEST_SKIP() << "this machine has a CUDA device";
  Model model(models::build_model("mobilenet_v2"), cuda_options("cuda:sm_90"));
  const std::vector<graph::InputBinding> bindings = model.default_bindings();
  EXPECT_GT(model.compile(bindings).kernels, 0);
  NDArray image(bindings[0].dtype, bindings[0].shape);
  try {
    model.run({image});
    FAIL() << "ran without a device";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taskmap
