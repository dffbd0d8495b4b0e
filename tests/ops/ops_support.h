#pragma once
// Helpers for the ops suites: host tensors of random data, NaN poisoning, double-precision
// reference evaluation and the comparison rule.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "taskmap/compile.h"
#include "taskmap/graph/graph.h"
#include "taskmap/ir/compute.h"
#include "taskmap/model.h"

namespace taskmap::testing {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string shape_str(const Shape& shape);

// How many times `what` occurs in `text` (a generated kernel's source or IR).
int64_t count_of(const std::string& text, const std::string& what);

// Uniform in [lo, hi], never exactly zero, from a seed that differs per call.
std::vector<float> random_data(int64_t n, float lo = -1.0f, float hi = 1.0f);
// An f32 array of `shape` filled by random_data.
NDArray random_array(const Shape& shape, float lo = -2.0f, float hi = 2.0f);
// Fills with NaN so an element the kernel forgot to write fails the comparison.
std::vector<float> poisoned(int64_t n);

// Unravels a flat row-major position.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape);
int64_t ravel(const std::vector<int64_t>& index, const Shape& shape);

// Compares kernel output with a double-precision reference. An element passes when
// |actual - expected| <= rtol * max(|expected|, rms(expected)): relative error for ordinary
// values, measured against the output's scale for values that cancel to nearly zero.
void expect_close(const std::vector<float>& actual, const std::vector<double>& expected,
                  const std::string& what, double rtol = 1e-5);
// For reductions: element i passes when |actual - expected| <= rtol * max(|expected|, scale[i]),
// where scale[i] is the magnitude of what was reduced (Σ|terms|, or its mean for a mean). A sum
// that cancels to nearly zero is judged against the size of its terms, the error f32
// accumulation actually makes.
void expect_close(const std::vector<float>& actual, const std::vector<double>& expected,
                  const std::vector<double>& scale, const std::string& what, double rtol = 1e-5);

// Compiles the graph `make` builds (one f32 input of `input_shape`, one output) with fusion and
// without, runs both on one random input, and checks that fusion removed kernels and that the
// outputs agree. Returns the fused plan's report.
CompileReport expect_fusion_keeps_results(const std::function<graph::Graph()>& make,
                                          const Shape& input_shape, const std::string& what);

// One ONNX operator over f32 inputs of the given shapes, with its attributes (lower_op's
// arguments, for suites that run lists of them).
struct OperatorCase {
  std::string type;
  std::vector<Shape> inputs;
  std::map<std::string, graph::AttrValue> attrs;
};

// The task of one operator (`domain` "" for ONNX's, "taskmap" for taskmap's own) over
// non-constant f32 inputs of the given shapes.
ir::Task lower_op(const std::string& type, const std::vector<Shape>& inputs,
                  std::map<std::string, graph::AttrValue> attrs, const std::string& domain = "");
// The same over inputs of `dtype` (f16 / bf16 for the tensor-core templates).
ir::Task lower_typed(const std::string& type, ir::DType dtype, const std::vector<Shape>& inputs,
                     std::map<std::string, graph::AttrValue> attrs = {},
                     const std::string& domain = "");

// Compiles every task's kernel in one batch (in parallel, through the cache).
std::vector<CompiledKernel> compile_all(const std::vector<ir::Task>& tasks);
std::vector<CompiledKernel> compile_all_auto(const std::vector<ir::Task>& tasks);

}  // namespace taskmap::testing
