// Generated reductions (sum, max, mean over any set of axes) and softmax against a
// double-precision reference on fresh random data.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "ops/ops_support.h"
#include "taskmap/graph/op_registry.h"

namespace taskmap::testing {
namespace {

using namespace ir;

struct ReduceCase {
  Shape shape;
  std::set<int> axes;
};

const std::vector<ReduceCase> kReduceCases = {
    {{1}, {0}},           {{7, 13}, {1}},         {{127, 1000}, {0}},
    {{13, 7, 3}, {0, 2}}, {{2, 3, 5, 7}, {1, 3}}, {{1000, 13}, {0, 1}},
    {{5, 1, 127}, {1}},
};

Shape kept_shape(const ReduceCase& c) {
  Shape out;
  for (size_t d = 0; d < c.shape.size(); ++d) {
    if (!c.axes.count(static_cast<int>(d))) out.push_back(c.shape[d]);
  }
  return out;
}

Task reduce_task(ReduceOp op, const ReduceCase& c) {
  Var x = tensor_input("x", f32, c.shape);
  std::vector<int64_t> extents;
  for (int d : c.axes) extents.push_back(c.shape[d]);
  Expr y = compute("y", kept_shape(c), [&](const Index& out) {
    return reduce(op, extents, [&](const Index& r) {
      std::vector<Expr> index;
      size_t next_out = 0, next_r = 0;
      for (size_t d = 0; d < c.shape.size(); ++d) {
        index.push_back(c.axes.count(static_cast<int>(d)) ? Expr(r[next_r++])
                                                          : Expr(out[next_out++]));
      }
      return load(x, index);
    });
  });
  return Task(std::string("reduce_") + reduce_op_name(op), {x}, {y});
}

// The reference result and, per output element, the magnitude of what was reduced.
std::pair<std::vector<double>, std::vector<double>> reduce_reference(ReduceOp op,
                                                                     const ReduceCase& c,
                                                                     const std::vector<float>& x) {
  Shape out_shape = kept_shape(c);
  std::vector<double> out(static_cast<size_t>(numel(out_shape)),
                          op == ReduceOp::max ? -INFINITY : 0.0);
  std::vector<double> magnitude(out.size(), 0.0);
  std::vector<int64_t> counts(out.size(), 0);
  for (int64_t i = 0; i < numel(c.shape); ++i) {
    std::vector<int64_t> idx = unravel(i, c.shape), kept;
    for (size_t d = 0; d < idx.size(); ++d) {
      if (!c.axes.count(static_cast<int>(d))) kept.push_back(idx[d]);
    }
    int64_t o = ravel(kept, out_shape);
    out[o] = op == ReduceOp::max ? std::max(out[o], static_cast<double>(x[i])) : out[o] + x[i];
    magnitude[o] += op == ReduceOp::max ? 0.0 : std::abs(x[i]);
    counts[o]++;
  }
  if (op == ReduceOp::mean) {
    for (size_t o = 0; o < out.size(); ++o) {
      out[o] /= static_cast<double>(counts[o]);
      magnitude[o] /= static_cast<double>(counts[o]);
    }
  }
  return {out, magnitude};
}

// A sum, a max and a mean of every case, with the (op, case) of each task.
using OpCase = std::pair<ReduceOp, const ReduceCase*>;
std::vector<Task> sum_max_mean_tasks(const std::vector<ReduceCase>& of,
                                     std::vector<OpCase>& cases) {
  std::vector<Task> tasks;
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::mean}) {
    for (const ReduceCase& c : of) {
      tasks.push_back(reduce_task(op, c));
      cases.emplace_back(op, &c);
    }
  }
  return tasks;
}

TEST(Reduce, SumMaxMeanOverAnyAxes) {
  std::vector<OpCase> cases;
  std::vector<Task> tasks = sum_max_mean_tasks(kReduceCases, cases);
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  for (size_t t = 0; t < tasks.size(); ++t) {
    const auto& [op, c] = cases[t];
    std::vector<float> x = random_data(numel(c->shape));
    std::vector<float> y = poisoned(numel(kept_shape(*c)));
    kernels[t]({x.data(), y.data()});
    std::string axes;
    for (int a : c->axes) axes += std::to_string(a) + " ";
    auto [expected, magnitude] = reduce_reference(op, *c, x);
    expect_close(y, expected, magnitude,
                 std::string(reduce_op_name(op)) + " of " + shape_str(c->shape) + " over " + axes);
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The auto-scheduler's f32 sums, means and maxes whose innermost axis fills its partial lanes
// (softmax and layer norm stages, reductions over leading axes) keep one partial result per
// lane: exact chunks, a ragged end, an outer reduction axis around them, a strided inner axis,
// and NaN wherever it falls in a row (the first element, the ragged end).
TEST(Reduce, AutoScheduledRowsKeepPartialLanes) {
  const std::vector<ReduceCase> cases = {
      {{4, 64}, {1}}, {{6, 1000}, {1}}, {{2, 33}, {1}}, {{3, 5, 100}, {1, 2}}, {{40, 3}, {0}}};
  std::vector<OpCase> all;
  std::vector<Task> tasks = sum_max_mean_tasks(cases, all);
  std::vector<CompiledKernel> kernels = compile_all_auto(tasks);
  for (size_t t = 0; t < tasks.size(); ++t) {
    const auto& [op, c] = all[t];
    const std::string what = std::string(reduce_op_name(op)) + " of " + shape_str(c->shape);
    EXPECT_NE(read_text(kernels[t].source_path()).find("part["), std::string::npos)
        << what << ": the reduction did not take the partial lanes";
    std::vector<float> x = random_data(numel(c->shape));
    std::vector<float> y = poisoned(numel(kept_shape(*c)));
    kernels[t]({x.data(), y.data()});
    auto [expected, magnitude] = reduce_reference(op, *c, x);
    expect_close(y, expected, magnitude, what);
    if (c->axes != std::set<int>{static_cast<int>(c->shape.size()) - 1}) continue;
    // NaN in the first element of row 0 and the last of row 1; the other rows are unchanged.
    const int64_t length = c->shape.back();
    std::vector<float> with_nan = x, z = poisoned(static_cast<int64_t>(y.size()));
    with_nan[0] = NAN;
    with_nan[2 * length - 1] = NAN;
    kernels[t]({with_nan.data(), z.data()});
    EXPECT_TRUE(std::isnan(z[0]) && std::isnan(z[1])) << what << ": " << z[0] << ", " << z[1];
    for (size_t o = 2; o < z.size(); ++o) {
      EXPECT_EQ(z[o], y[o]) << what << ", row " << o;
    }
  }
}

// softmax(x)[.., i, ..] = exp(x - max) / Σ exp(x - max), along `axis`.
Task softmax_task(const Shape& shape, int axis) {
  Var x = tensor_input("x", f32, shape);
  auto along = [&](const Index& at, const Expr& k) {
    std::vector<Expr> index(at.begin(), at.end());
    index[axis] = k;
    return index;
  };
  Shape reduced = shape;
  reduced[axis] = 1;
  Expr row_max = compute("row_max", reduced, [&](const Index& at) {
    return reduce(ReduceOp::max, {shape[axis]},
                  [&](const Index& r) { return load(x, along(at, r[0])); });
  });
  Expr shifted_exp = compute("shifted_exp", shape, [&](const Index& at) {
    return call("exp", {load(x, along(at, at[axis])) - load(row_max, along(at, 0))});
  });
  Expr row_sum = compute("row_sum", reduced, [&](const Index& at) {
    return reduce(ReduceOp::sum, {shape[axis]},
                  [&](const Index& r) { return load(shifted_exp, along(at, r[0])); });
  });
  Expr y = compute("y", shape, [&](const Index& at) {
    return load(shifted_exp, along(at, at[axis])) / load(row_sum, along(at, 0));
  });
  return Task("softmax", {x}, {y});
}

TEST(Softmax, MatchesReferenceAlongAnyAxis) {
  const std::vector<std::pair<Shape, int>> cases = {{{1, 1}, 1},       {{7, 13}, 1},
                                                    {{127, 1000}, 1},  {{13, 127}, 0},
                                                    {{2, 1000, 7}, 1}, {{3, 5, 7}, 2}};
  std::vector<Task> tasks;
  for (const auto& [shape, axis] : cases) tasks.push_back(softmax_task(shape, axis));
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  for (size_t t = 0; t < cases.size(); ++t) {
    const auto& [shape, axis] = cases[t];
    std::vector<float> x = random_data(numel(shape), -4.0f, 4.0f), y = poisoned(numel(shape));
    kernels[t]({x.data(), y.data()});
    std::vector<double> expected(y.size());
    for (int64_t i = 0; i < numel(shape); ++i) {
      std::vector<int64_t> idx = unravel(i, shape);
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < shape[axis]; ++k) {
        idx[axis] = k;
        m = std::max(m, static_cast<double>(x[ravel(idx, shape)]));
      }
      for (int64_t k = 0; k < shape[axis]; ++k) {
        idx[axis] = k;
        s += std::exp(x[ravel(idx, shape)] - m);
      }
      expected[i] = std::exp(x[i] - m) / s;
    }
    expect_close(y, expected, "softmax " + shape_str(shape) + " axis " + std::to_string(axis));
  }
}

// The Softmax operator along its last axis, rows of whole vectors, takes softmax_cpu (one row
// per task, the exp once per element); a row of -inf (fully masked) is NaN, as the reference's
// exp(-inf - -inf) is; other rows match on random data.
TEST(Softmax, RowTemplateMatchesReference) {
  const std::vector<Shape> shapes = {{2, 3, 64}, {5, 96}, {1, 4096}};
  for (const Shape& shape : shapes) {
    graph::OperatorNode op;
    op.type = op.name = "Softmax";
    op.opset = 13;
    op.inputs.push_back(graph::make_tensor("x", f32, graph::to_shape(shape)));
    op.outputs.push_back(graph::make_tensor("y", f32, {}));
    Task task = graph::lower_operator(op).task;
    Function kernel = implement_cpu(task, CpuTarget::host());
    EXPECT_EQ(kernel->attrs.at("schedule").rfind("softmax_cpu", 0), 0u) << shape_str(shape);
    std::vector<CompiledKernel> compiled = compile_kernels({kernel}, CompileOptions{});
    const int64_t length = shape.back(), rows = numel(shape) / length;
    std::vector<float> x = random_data(numel(shape), -6.0f, 6.0f), y = poisoned(numel(shape));
    if (rows > 1) std::fill(x.begin() + length, x.begin() + 2 * length, -INFINITY);
    compiled[0]({x.data(), y.data()});
    std::vector<double> expected(y.size());
    for (int64_t r = 0; r < rows; ++r) {
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < length; ++k) m = std::max(m, double{x[r * length + k]});
      for (int64_t k = 0; k < length; ++k) s += std::exp(x[r * length + k] - m);
      for (int64_t k = 0; k < length; ++k)
        expected[r * length + k] = std::exp(x[r * length + k] - m) / s;
    }
    for (int64_t k = 0; rows > 1 && k < length; ++k) {
      EXPECT_TRUE(std::isnan(y[length + k])) << "masked row, " << shape_str(shape);
      y[length + k] = 0.0f;
      expected[length + k] = 0.0;
    }
    expect_close(y, expected, "softmax op " + shape_str(shape));
  }
}

}  // namespace
}  // namespace taskmap::testing

namespace taskmap::testing {
namespace {

using namespace ir;

// prod, min, argmax and argmin over the last axis. argmax / argmin return the first position
// of the extreme value as i64.
TEST(Reduce, ProdMinArgmaxArgminOverTheLastAxis) {
  const std::vector<Shape> shapes = {{1, 1}, {7, 13}, {127, 5}, {3, 1000}, {13, 7}};
  const ReduceOp ops[] = {ReduceOp::prod, ReduceOp::min, ReduceOp::argmax, ReduceOp::argmin};
  std::vector<Task> tasks;
  for (ReduceOp op : ops) {
    for (const Shape& s : shapes) {
      Var x = tensor_input("x", f32, s);
      Expr y = compute("y", {s[0]}, [&](const Index& i) {
        return reduce(op, {s[1]}, [&](const Index& r) { return load(x, {i[0], r[0]}); });
      });
      tasks.emplace_back(std::string("reduce_") + reduce_op_name(op), std::vector<Var>{x},
                         std::vector<Expr>{y});
    }
  }
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  size_t t = 0;
  for (ReduceOp op : ops) {
    for (const Shape& s : shapes) {
      // Products of values near 1 stay finite over 1000 terms.
      std::vector<float> x =
          op == ReduceOp::prod ? random_data(numel(s), 0.999f, 1.001f) : random_data(numel(s));
      std::string what = std::string(reduce_op_name(op)) + " " + shape_str(s);
      if (op == ReduceOp::argmax || op == ReduceOp::argmin) {
        std::vector<int64_t> y(static_cast<size_t>(s[0]), -1);
        kernels[t++]({x.data(), y.data()});
        for (int64_t i = 0; i < s[0]; ++i) {
          int64_t best = 0;
          for (int64_t k = 1; k < s[1]; ++k) {
            float v = x[i * s[1] + k], b = x[i * s[1] + best];
            if (op == ReduceOp::argmax ? v > b : v < b) best = k;
          }
          EXPECT_EQ(y[i], best) << what << " row " << i;
        }
        continue;
      }
      std::vector<float> y = poisoned(s[0]);
      kernels[t++]({x.data(), y.data()});
      std::vector<double> expected(static_cast<size_t>(s[0]));
      for (int64_t i = 0; i < s[0]; ++i) {
        double acc = op == ReduceOp::prod ? 1.0 : INFINITY;
        for (int64_t k = 0; k < s[1]; ++k) {
          double v = x[i * s[1] + k];
          acc = op == ReduceOp::prod ? acc * v : std::min(acc, v);
        }
        expected[i] = acc;
      }
      expect_close(y, expected, what);
    }
  }
}

}  // namespace
}  // namespace taskmap::testing
