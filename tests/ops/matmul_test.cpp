// Matmul kernels, auto-scheduled and from the task-mapped template, against a double-precision
// reference on fresh random data.
#include <cmath>

#include "ops/ops_support.h"
#include "taskmap/schedules/matmul_cpu.h"

namespace taskmap::testing {
namespace {

using namespace ir;

struct Dims {
  int64_t m, n, k;
};

const std::vector<Dims> kShapes = {{1, 1, 1},    {7, 13, 5},      {127, 1000, 13}, {1000, 7, 127},
                                   {64, 64, 64}, {13, 127, 1000}, {33, 65, 17}};

// C = A·B in double, and per element the magnitude Σ_k |a_ik · b_kj| of its terms.
std::pair<std::vector<double>, std::vector<double>> reference(const Dims& d,
                                                              const std::vector<float>& a,
                                                              const std::vector<float>& b) {
  std::vector<double> c(static_cast<size_t>(d.m * d.n), 0.0), magnitude(c.size(), 0.0);
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t k = 0; k < d.k; ++k) {
      for (int64_t j = 0; j < d.n; ++j) {
        double term = double(a[i * d.k + k]) * b[k * d.n + j];
        c[i * d.n + j] += term;
        magnitude[i * d.n + j] += std::abs(term);
      }
    }
  }
  return {c, magnitude};
}

void check(const std::vector<CompiledKernel>& kernels, const char* how) {
  for (size_t t = 0; t < kShapes.size(); ++t) {
    const Dims& d = kShapes[t];
    std::vector<float> a = random_data(d.m * d.k), b = random_data(d.k * d.n),
                       c = poisoned(d.m * d.n);
    kernels[t]({a.data(), b.data(), c.data()});
    auto [expected, magnitude] = reference(d, a, b);
    expect_close(c, expected, magnitude,
                 std::string(how) + " matmul " + std::to_string(d.m) + "x" + std::to_string(d.n) +
                     "x" + std::to_string(d.k));
  }
}

std::vector<Task> tasks() {
  std::vector<Task> out;
  for (const Dims& d : kShapes) out.push_back(schedules::matmul_task(d.m, d.n, d.k));
  return out;
}

TEST(Matmul, AutoScheduledMatchesReference) {
  check(compile_all_auto(tasks()), "auto-scheduled");
}

TEST(Matmul, TemplateMatchesReference) {
  check(compile_all(tasks()), "templated");
}

TEST(Matmul, TemplateWithOtherConfigsMatchesReference) {
  std::vector<Function> kernels;
  const schedules::MatmulConfig configs[] = {{8, 32, 2, 8}, {4, 16, 4, 16}, {12, 48, 3, 16}};
  for (const schedules::MatmulConfig& cfg : configs) {
    for (const Task& t : tasks()) kernels.push_back(schedules::matmul_cpu(t, cfg));
  }
  std::vector<CompiledKernel> compiled = compile_kernels(kernels);
  for (size_t c = 0; c < std::size(configs); ++c) {
    std::vector<CompiledKernel> group(compiled.begin() + c * kShapes.size(),
                                      compiled.begin() + (c + 1) * kShapes.size());
    check(group, configs[c].str().c_str());
  }
}

}  // namespace
}  // namespace taskmap::testing
