#pragma once
// Helpers of the graph-pass tests: small graphs specialized, evaluated operator by operator on
// random data, and compared.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "taskmap/graph/graph.h"

namespace taskmap::graph::support {

using Histogram = std::map<std::string, int>;

// Operators by type.
Histogram histogram(const Graph& g);
int count(const Graph& g, const std::string& type);

// The graph specialized for its declared input shapes (the form the rewrites take).
Graph specialized(const Graph& g);

// Uniform in [-3, 3), never zero, of `t`'s dtype and shape.
NDArray random_array(const Tensor& t, std::mt19937_64& rng);

// The outputs of `g`, one operator at a time (no rewrite, no fusion).
std::vector<NDArray> evaluate(const Graph& g, const std::vector<NDArray>& inputs);

// Each element of `actual` within `tolerance` * max(1, |expected|) of `expected`.
void expect_close(const std::vector<NDArray>& actual, const std::vector<NDArray>& expected,
                  const std::string& what, double tolerance = 1e-4);

}  // namespace taskmap::graph::support
