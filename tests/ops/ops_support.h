#pragma once
// Helpers for the ops suites: host tensors of random data, NaN poisoning, double-precision
// reference evaluation and the comparison rule.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "taskmap/compile.h"
#include "taskmap/ir/compute.h"

namespace taskmap::testing {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string shape_str(const Shape& shape);

// Uniform in [lo, hi], never exactly zero, from a seed that differs per call.
std::vector<float> random_data(int64_t n, float lo = -1.0f, float hi = 1.0f);
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

// Compiles every task's kernel in one batch (in parallel, through the cache).
std::vector<CompiledKernel> compile_all(const std::vector<ir::Task>& tasks);
std::vector<CompiledKernel> compile_all_auto(const std::vector<ir::Task>& tasks);

}  // namespace taskmap::testing
