// Generated elementwise kernels (unary, and binary with NumPy broadcasting) against a
// double-precision reference on fresh random data, on awkward shapes.
#include <cmath>

#include "ops/ops_support.h"
#include "taskmap/graph/op_registry.h"

namespace taskmap::testing {
namespace {

using namespace ir;

struct UnaryCase {
  const char* name;
  std::function<Expr(Expr)> op;
  std::function<double(double)> reference;
};

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {"relu", [](Expr x) { return max(x, 0.0f); }, [](double x) { return std::max(x, 0.0); }},
      {"exp", [](Expr x) { return call("exp", {x}); }, [](double x) { return std::exp(x); }},
      {"tanh", [](Expr x) { return call("tanh", {x}); }, [](double x) { return std::tanh(x); }},
      {"sigmoid", [](Expr x) { return 1.0f / (1.0f + call("exp", {-x})); },
       [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
  };
  return cases;
}

const std::vector<Shape> kShapes = {{1}, {7, 13}, {127, 1000}, {13, 1, 7}, {2, 3, 5, 7}, {1000}};

TEST(Elementwise, UnaryOpsMatchReference) {
  std::vector<Task> tasks;
  std::vector<std::pair<const UnaryCase*, Shape>> cases;
  for (const UnaryCase& c : unary_cases()) {
    for (const Shape& shape : kShapes) {
      Var x = tensor_input("x", f32, shape);
      Expr y = compute("y", shape, [&](const Index& i) { return c.op(load(x, i)); });
      tasks.emplace_back(c.name, std::vector<Var>{x}, std::vector<Expr>{y});
      cases.emplace_back(&c, shape);
    }
  }
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  for (size_t t = 0; t < tasks.size(); ++t) {
    const auto& [c, shape] = cases[t];
    int64_t n = numel(shape);
    std::vector<float> x = random_data(n, -3.0f, 3.0f), y = poisoned(n);
    kernels[t]({x.data(), y.data()});
    std::vector<double> expected(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) expected[i] = c->reference(x[i]);
    expect_close(y, expected, std::string(c->name) + " " + shape_str(shape));
  }
}

// Broadcasting as NumPy does: shapes align from the right; a dim of 1 stretches.
Shape broadcast_shape(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t x = d + a.size() >= rank ? a[d + a.size() - rank] : 1;
    int64_t y = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
    out[d] = std::max(x, y);
  }
  return out;
}

std::vector<Expr> broadcast_index(const Index& out, const Shape& in) {
  std::vector<Expr> index;
  size_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    index.push_back(in[d] == 1 ? Expr(0) : Expr(out[d + offset]));
  }
  return index;
}

int64_t broadcast_position(const std::vector<int64_t>& out_index, const Shape& in) {
  size_t offset = out_index.size() - in.size();
  int64_t flat = 0;
  for (size_t d = 0; d < in.size(); ++d)
    flat = flat * in[d] + (in[d] == 1 ? 0 : out_index[d + offset]);
  return flat;
}

struct BinaryCase {
  const char* name;
  std::function<Expr(Expr, Expr)> op;
  std::function<double(double, double)> reference;
};

TEST(Elementwise, BinaryOpsBroadcastLikeNumPy) {
  const std::vector<BinaryCase> ops = {
      {"add", [](Expr a, Expr b) { return a + b; }, [](double a, double b) { return a + b; }},
      {"mul", [](Expr a, Expr b) { return a * b; }, [](double a, double b) { return a * b; }},
      {"div", [](Expr a, Expr b) { return a / b; }, [](double a, double b) { return a / b; }},
      {"max", [](Expr a, Expr b) { return max(a, b); },
       [](double a, double b) { return std::max(a, b); }},
  };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1}, {1}},           {{7, 13}, {13}}, {{127, 1000}, {127, 1}},
      {{13, 1, 7}, {5, 1}}, {{1000}, {1}},   {{2, 3, 5, 7}, {3, 1, 7}},
  };
  std::vector<Task> tasks;
  std::vector<std::pair<const BinaryCase*, std::pair<Shape, Shape>>> cases;
  for (const BinaryCase& op : ops) {
    for (const auto& [sa, sb] : shapes) {
      Shape so = broadcast_shape(sa, sb);
      Var a = tensor_input("a", f32, sa), b = tensor_input("b", f32, sb);
      Expr c = compute("c", so, [&](const Index& i) {
        return op.op(load(a, broadcast_index(i, sa)), load(b, broadcast_index(i, sb)));
      });
      tasks.emplace_back(op.name, std::vector<Var>{a, b}, std::vector<Expr>{c});
      cases.push_back({&op, {sa, sb}});
    }
  }
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  for (size_t t = 0; t < tasks.size(); ++t) {
    const auto& [op, sh] = cases[t];
    const auto& [sa, sb] = sh;
    Shape so = broadcast_shape(sa, sb);
    std::vector<float> a = random_data(numel(sa)), b = random_data(numel(sb), 0.5f, 2.0f);
    std::vector<float> c = poisoned(numel(so));
    kernels[t]({a.data(), b.data(), c.data()});
    std::vector<double> expected(c.size());
    for (int64_t i = 0; i < numel(so); ++i) {
      std::vector<int64_t> idx = unravel(i, so);
      expected[i] = op->reference(a[broadcast_position(idx, sa)], b[broadcast_position(idx, sb)]);
    }
    expect_close(c, expected,
                 std::string(op->name) + " " + shape_str(sa) + " with " + shape_str(sb));
  }
}

// One-element f32 constants are immediates of the lowered compute, not kernel arguments: a
// Div by √64 (attention's scale) and a Clip to [0, 6] (ReLU6) each take the image alone, and
// match the reference. A constant of more elements stays an argument.
TEST(Elementwise, ScalarConstantsBecomeImmediates) {
  auto scalar = [](const std::string& name, float value, Shape shape = {}) {
    NDArray array(f32, shape);
    for (int64_t i = 0; i < array.numel(); ++i) array.data<float>()[i] = value;
    return graph::make_constant(name, std::move(array));
  };
  const Shape shape = {3, 7, 33};
  auto op_of = [&](const std::string& type, std::vector<graph::Tensor> constants) {
    graph::OperatorNode op;
    op.type = op.name = type;
    op.inputs.push_back(graph::make_tensor("x", f32, graph::to_shape(shape)));
    for (graph::Tensor& c : constants) op.inputs.push_back(std::move(c));
    op.outputs.push_back(graph::make_tensor("y", f32, {}));
    return graph::lower_operator(op);
  };
  graph::LoweredOperator div = op_of("Div", {scalar("d", 8.0f)});
  graph::LoweredOperator clip = op_of("Clip", {scalar("lo", 0.0f), scalar("hi", 6.0f, {1})});
  graph::LoweredOperator wide = op_of("Div", {scalar("d", 8.0f, {33})});
  EXPECT_EQ(div.used_inputs, std::vector<int>{0});
  EXPECT_EQ(clip.used_inputs, std::vector<int>{0});
  EXPECT_EQ(wide.used_inputs, (std::vector<int>{0, 1}));
  std::vector<CompiledKernel> kernels = compile_all({div.task, clip.task});
  std::vector<float> x = random_data(numel(shape), -8.0f, 8.0f);
  std::vector<float> y_div = poisoned(x.size()), y_clip = poisoned(x.size());
  kernels[0]({x.data(), y_div.data()});
  kernels[1]({x.data(), y_clip.data()});
  std::vector<double> expected_div(x.size()), expected_clip(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    expected_div[i] = x[i] / 8.0;
    expected_clip[i] = std::min(std::max(double(x[i]), 0.0), 6.0);
  }
  expect_close(y_div, expected_div, "x / 8 with 8 an immediate");
  expect_close(y_clip, expected_clip, "clip(x, 0, 6) with its bounds immediates");
}

}  // namespace
}  // namespace taskmap::testing
