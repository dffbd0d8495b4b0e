// The arrays Model::run returns: a run reuses the previous run's output buffers once the caller
// has let go of them (no fresh zero-filled allocation per run), never writes into one the caller
// still holds, and writes every element of one it reuses.
#include <cmath>

#include "ops/ops_support.h"
#include "taskmap/graph/builder.h"
#include "taskmap/model.h"

namespace taskmap::testing {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

constexpr int64_t kRows = 37, kInner = 24, kCols = 70;

// y = relu(x @ w + 0.5) and, as a second output, the input itself (an output that is copied,
// not written by a kernel).
struct Net {
  graph::Graph graph;
  NDArray w;
};

Net make_net() {
  GraphBuilder b("outputs", /*seed=*/11);
  Tensor x = b.input("x", ir::f32, graph::to_shape({kRows, kInner}));
  Tensor w = b.weight({kInner, kCols});
  b.output(b.relu(b.add(b.matmul(x, w), b.scalar(0.5))), "y");
  b.output(x, "x_again");
  NDArray weights = w->constant;
  return {b.build(), weights};
}

std::vector<double> reference(const NDArray& x, const NDArray& w) {
  std::vector<double> y(kRows * kCols);
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      double s = 0.5;
      for (int64_t k = 0; k < kInner; ++k)
        s += static_cast<double>(x.data<float>()[i * kInner + k]) * w.data<float>()[k * kCols + j];
      y[i * kCols + j] = std::max(s, 0.0);
    }
  return y;
}

std::vector<float> values(const NDArray& a) {
  return {a.data<float>(), a.data<float>() + a.numel()};
}

void expect_outputs(const std::vector<NDArray>& out, const NDArray& x, const NDArray& w) {
  ASSERT_EQ(out.size(), 2u);
  expect_close(values(out[0]), reference(x, w), "y");
  std::vector<float> input = values(x);
  std::vector<double> copied(input.begin(), input.end());
  expect_close(values(out[1]), copied, "x_again");
}

TEST(RunOutputs, HeldResultsAreNeverOverwrittenAndReleasedOnesAreReused) {
  Net net = make_net();
  Model model(net.graph);
  NDArray x1 = random_array({kRows, kInner}), x2 = random_array({kRows, kInner});

  std::vector<NDArray> held = model.run({x1});
  std::vector<NDArray> second = model.run({x2});
  // The first results are still the caller's: the second run wrote elsewhere.
  EXPECT_NE(held[0].raw(), second[0].raw());
  EXPECT_NE(held[1].raw(), second[1].raw());
  expect_outputs(held, x1, net.w);
  expect_outputs(second, x2, net.w);

  // Poison the second results and let go of them: the next run takes those buffers and must
  // write every element again (a NaN left over fails the comparison).
  const void* released_y = second[0].raw();
  const void* released_copy = second[1].raw();
  for (NDArray& a : second) {
    std::vector<float> nan = poisoned(a.numel());
    std::copy(nan.begin(), nan.end(), a.data<float>());
  }
  second.clear();
  std::vector<NDArray> third = model.run({x1});
  EXPECT_EQ(third[0].raw(), released_y);
  EXPECT_EQ(third[1].raw(), released_copy);
  expect_outputs(third, x1, net.w);
  expect_outputs(held, x1, net.w);

  // A view (reshaped) keeps the storage held, like the array itself.
  NDArray view = third[0].reshaped({kRows * kCols});
  third.clear();
  std::vector<NDArray> fourth = model.run({x2});
  EXPECT_NE(fourth[0].raw(), view.raw());
  expect_close(values(view), reference(x1, net.w), "the held view");
  expect_outputs(fourth, x2, net.w);
}

}  // namespace
}  // namespace taskmap::testing
