// Whole models on the GPU (ModelOptions::cuda) against the same models on the CPU: fused graphs
// around every anchor kind and two bundled models, in f32 and narrowed to f16 / bf16, on fresh
// random inputs. Each CUDA model runs
// three times: launch by launch, captured as a CUDA graph, and replayed; all three must match
// the CPU, and each reports the GPU's time for its kernels. Skips, saying why, where there is no
// NVRTC or no GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "cuda/cuda_device_test.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/graph/builder.h"
#include "taskmap/model.h"
#include "taskmap/models.h"

namespace taskmap {
namespace {
using graph::GraphBuilder;
using graph::Tensor;
using testing::Shape;

class CudaModelRun : public testing::CudaDeviceTest {
 protected:
  // Runs `graph` on the CPU and three times on the GPU on the same random inputs, both in
  // `precision` (ModelOptions::precision), the GPU's f32 contractions in tf32 with `tf32`.
  void expect_gpu_matches_cpu(const graph::Graph& graph, const std::string& what, double rtol,
                              ir::DType precision = ir::f32, bool tf32 = false) const {
    SCOPED_TRACE(what);
    ModelOptions cpu_options;
    cpu_options.precision = precision;
    Model cpu(graph, cpu_options);
    ModelOptions options = cpu_options;
    options.cuda = target_;
    options.tf32 = tf32;
    Model gpu(graph, options);
    // Floats in [-1, 1]; integers (token ids) in [0, 10).
    std::vector<NDArray> inputs;
    for (const graph::InputBinding& b : cpu.default_bindings()) {
      const std::vector<float> values = testing::random_data(testing::numel(b.shape), 0.0f, 1.0f);
      NDArray input(b.dtype, b.shape);
      for (int64_t i = 0; i < input.numel(); ++i) {
        if (b.dtype.is_float())
          input.set_double(i, 2.0 * values[i] - 1.0);
        else
          input.set_int(i, static_cast<int64_t>(values[i] * 9.99f));
      }
      inputs.push_back(input);
    }
    const std::vector<NDArray> expected = cpu.run(inputs);
    for (int run = 0; run < 3; ++run) {
      SCOPED_TRACE("GPU run " + std::to_string(run));
      double device_ms = -1;
      const auto start = std::chrono::steady_clock::now();
      const std::vector<NDArray> actual = gpu.run(inputs, &device_ms);
      const double wall_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      // The GPU's time for the kernels: set, and within the call's wall time.
      EXPECT_GT(device_ms, 0.0);
      EXPECT_LE(device_ms, wall_ms);
      ASSERT_EQ(actual.size(), expected.size());
      for (size_t k = 0; k < actual.size(); ++k) {
        ASSERT_EQ(actual[k].shape(), expected[k].shape());
        std::vector<float> got(actual[k].numel());
        std::vector<double> want(expected[k].numel());
        for (int64_t i = 0; i < actual[k].numel(); ++i) {
          got[i] = static_cast<float>(actual[k].get_double(i));
          want[i] = expected[k].get_double(i);
        }
        testing::expect_close(got, want, what + " output " + std::to_string(k), rtol);
      }
    }
    const std::vector<Model::KernelTime> profile = gpu.profile(inputs, 2);
    EXPECT_EQ(static_cast<int>(profile.size()), gpu.compile(graph::bindings_of(inputs)).kernels);
  }
};

graph::Graph chain(const Shape& shape, const std::function<Tensor(GraphBuilder&, Tensor)>& body) {
  GraphBuilder b("chain", /*seed=*/11);
  Tensor x = b.input("x", ir::f32, graph::to_shape(shape));
  b.output(body(b, x), "y");
  return b.build();
}

TEST_F(CudaModelRun, FusedGraphsMatchTheCpu) {
  auto tail = [](GraphBuilder& b, Tensor y) {
    return b.op1("Sigmoid", {b.mul(b.add(y, b.scalar(0.25)), b.scalar(1.5))});
  };
  expect_gpu_matches_cpu(chain({48, 40},
                               [&](GraphBuilder& b, Tensor x) {
                                 Tensor y = b.matmul(b.relu(x), b.weight({40, 72}));
                                 return tail(b, b.add(y, b.weight({72}, 1.0)));
                               }),
                         "matmul", 1e-4);
  // K split in three (a batch-1 projection): the transpose read by the partial GEMMs, the bias
  // and the tail applied by the sum kernel.
  expect_gpu_matches_cpu(chain({768, 128},
                               [&](GraphBuilder& b, Tensor x) {
                                 Tensor y = b.matmul(b.transpose(x, {1, 0}), b.weight({768, 768}));
                                 return tail(b, b.add(y, b.weight({768}, 1.0)));
                               }),
                         "split-k matmul", 1e-4);
  expect_gpu_matches_cpu(chain({1, 8, 14, 14},
                               [&](GraphBuilder& b, Tensor x) {
                                 Tensor y = b.conv2d(b.relu(x), b.weight({16, 8, 3, 3}),
                                                     b.weight({16}, 1.0), {.pads = {1, 1, 1, 1}});
                                 Tensor r = b.conv2d(x, b.weight({16, 8, 1, 1}), nullptr);
                                 return b.relu(b.add(b.batch_norm(y), r));
                               }),
                         "conv", 1e-4);
  expect_gpu_matches_cpu(
      chain({5, 33},
            [&](GraphBuilder& b, Tensor x) { return tail(b, b.softmax(b.mul(x, b.scalar(3.0)))); }),
      "softmax", 1e-4);
  expect_gpu_matches_cpu(
      chain({10, 64}, [&](GraphBuilder& b,
                          Tensor x) { return tail(b, b.layer_norm(b.add(x, b.scalar(1.0)), 64)); }),
      "layer norm", 1e-4);
}

TEST_F(CudaModelRun, BundledModelsMatchTheCpu) {
  for (const char* name : {"mobilenet_v2", "bert_base"})
    expect_gpu_matches_cpu(models::build_model(name), name, 2e-3);
}

// Narrowed models (tensor cores for the matmuls and the convolutions, their windows staged)
// against the CPU narrowed the same way: the sums are f32 on both sides, the stored
// values differ by a rounding of the last bit where the sums' orders differ. And an f32 model
// with tf32 contractions against the exact CPU.
TEST_F(CudaModelRun, NarrowedModelsMatchTheCpu) {
  expect_gpu_matches_cpu(chain({64, 96},
                               [&](GraphBuilder& b, Tensor x) {
                                 Tensor y = b.matmul(b.relu(x), b.weight({96, 128}));
                                 return b.op1("Tanh", {b.add(y, b.weight({128}, 1.0))});
                               }),
                         "f16 matmul", 4e-3, ir::f16);
  expect_gpu_matches_cpu(chain({1, 16, 14, 14},
                               [&](GraphBuilder& b, Tensor x) {
                                 Tensor y = b.conv2d(b.relu(x), b.weight({32, 16, 3, 3}),
                                                     b.weight({32}, 1.0), {.pads = {1, 1, 1, 1}});
                                 return b.relu(b.conv2d(y, b.weight({32, 32, 1, 1}), nullptr));
                               }),
                         "bf16 convolutions", 2e-2, ir::bf16);
  expect_gpu_matches_cpu(models::build_model("bert_base"), "bert_base f16", 1e-2, ir::f16);
  expect_gpu_matches_cpu(models::build_model("resnet50"), "resnet50 tf32", 1e-2, ir::f32,
                         /*tf32=*/true);
  expect_gpu_matches_cpu(models::build_model("mobilenet_v2"), "mobilenet_v2 bf16", 4e-2, ir::bf16);
}

}  // namespace
}  // namespace taskmap
