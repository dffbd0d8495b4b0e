// Helpers of the graph-pass tests (graph_support.h).
#include "graph_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "taskmap/graph/run_operator.h"
#include "taskmap/graph/specialize.h"

namespace taskmap::graph::support {

Histogram histogram(const Graph& g) {
  Histogram h;
  for (const Operator& op : g.ops) ++h[op->type];
  return h;
}

int count(const Graph& g, const std::string& type) {
  return histogram(g)[type];
}

Graph specialized(const Graph& g) {
  std::vector<InputBinding> bindings;
  for (const Tensor& t : g.inputs) bindings.push_back({t->dtype, known_sizes(t->shape), {}});
  return specialize(g, bindings);
}

NDArray random_array(const Tensor& t, std::mt19937_64& rng) {
  NDArray a(t->dtype, known_sizes(t->shape));
  std::uniform_real_distribution<double> dist(-3.0, 3.0);
  for (int64_t i = 0; i < a.numel(); ++i) {
    double v = dist(rng);
    a.set_double(i, v == 0 ? 0.5 : v);
  }
  return a;
}

std::vector<NDArray> evaluate(const Graph& g, const std::vector<NDArray>& inputs) {
  std::unordered_map<const TensorNode*, NDArray> values;
  for (size_t i = 0; i < g.inputs.size(); ++i) values[g.inputs[i].get()] = inputs[i];
  auto value = [&](const Tensor& t) {
    if (!t) return NDArray();
    return t->is_constant() ? t->constant : values.at(t.get());
  };
  for (const Operator& op : g.ops) {
    std::vector<NDArray> args;
    for (const Tensor& t : op->inputs) args.push_back(value(t));
    std::vector<NDArray> results = run_operator(*op, args);
    for (size_t k = 0; k < op->outputs.size(); ++k)
      if (op->outputs[k]) values[op->outputs[k].get()] = results.at(k);
  }
  std::vector<NDArray> outputs;
  for (const Tensor& t : g.outputs) outputs.push_back(value(t));
  return outputs;
}

void expect_close(const std::vector<NDArray>& actual, const std::vector<NDArray>& expected,
                  const std::string& what, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t k = 0; k < actual.size(); ++k) {
    ASSERT_EQ(actual[k].shape(), expected[k].shape()) << what << ", output " << k;
    for (int64_t i = 0; i < actual[k].numel(); ++i) {
      double a = actual[k].get_double(i), e = expected[k].get_double(i);
      ASSERT_NEAR(a, e, tolerance * std::max(1.0, std::abs(e)))
          << what << ", output " << k << " element " << i;
    }
  }
}

}  // namespace taskmap::graph::support
