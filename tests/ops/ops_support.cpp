#include "ops/ops_support.h"

#include "taskmap/graph/op_registry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>

#include "taskmap/build/compiler.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::testing {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

std::vector<float> random_data(int64_t n, float lo, float hi) {
  static std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) {
    do {
      x = dist(rng);
    } while (x == 0.0f);
  }
  return v;
}

int64_t count_of(const std::string& text, const std::string& what) {
  int64_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

NDArray random_array(const Shape& shape, float lo, float hi) {
  NDArray a(ir::f32, shape);
  std::vector<float> values = random_data(numel(shape), lo, hi);
  std::copy(values.begin(), values.end(), static_cast<float*>(a.raw()));
  return a;
}

CompileReport expect_fusion_keeps_results(const std::function<graph::Graph()>& make,
                                          const Shape& input_shape, const std::string& what) {
  ModelOptions unfused_options;
  unfused_options.fuse = false;
  Model fused(make()), unfused(make(), unfused_options);
  NDArray x = random_array(input_shape);
  CompileReport with = fused.compile(graph::bindings_of({x}));
  CompileReport without = unfused.compile(graph::bindings_of({x}));
  EXPECT_LT(with.kernels, without.kernels) << what << ": nothing was fused";
  std::vector<NDArray> a = fused.run({x}), b = unfused.run({x});
  EXPECT_EQ(a.size(), 1u) << what;
  if (a.size() != 1 || b.size() != 1) return with;
  const float* pa = static_cast<const float*>(a[0].raw());
  const float* pb = static_cast<const float*>(b[0].raw());
  std::vector<float> actual(pa, pa + a[0].numel());
  std::vector<double> expected(pb, pb + b[0].numel());
  expect_close(actual, expected, what + ": fused against unfused", 1e-5);
  return with;
}

std::vector<float> poisoned(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
  return flat;
}

void expect_close(const std::vector<float>& actual, const std::vector<double>& expected,
                  const std::string& what, double rtol) {
  double sum_sq = 0;
  for (double e : expected) sum_sq += e * e;
  double rms = expected.empty() ? 0 : std::sqrt(sum_sq / static_cast<double>(expected.size()));
  expect_close(actual, expected, std::vector<double>(expected.size(), rms), what, rtol);
}

void expect_close(const std::vector<float>& actual, const std::vector<double>& expected,
                  const std::vector<double>& scale, const std::string& what, double rtol) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  ASSERT_EQ(scale.size(), expected.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double a = actual[i], e = expected[i];
    double tolerance = rtol * std::max(std::abs(e), scale[i]);
    if (!(std::abs(a - e) <= tolerance)) {
      if (bad++ < 5) {
        ADD_FAILURE() << what << ": element " << i << " is " << a << ", expected " << e
                      << " (tolerance " << tolerance << ")";
      }
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << actual.size() << " elements differ";
}

ir::Task lower_op(const std::string& type, const std::vector<Shape>& inputs,
                  std::map<std::string, graph::AttrValue> attrs, const std::string& domain) {
  return lower_typed(type, ir::f32, inputs, std::move(attrs), domain);
}

ir::Task lower_typed(const std::string& type, ir::DType dtype, const std::vector<Shape>& inputs,
                     std::map<std::string, graph::AttrValue> attrs, const std::string& domain) {
  graph::OperatorNode op;
  op.type = type;
  op.domain = domain;
  op.name = type;
  op.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i)
    op.inputs.push_back(
        graph::make_tensor("in" + std::to_string(i), dtype, graph::to_shape(inputs[i])));
  op.outputs.push_back(graph::make_tensor("out", dtype, {}));
  return graph::lower_operator(op).task;
}

std::vector<CompiledKernel> compile_all(const std::vector<ir::Task>& tasks) {
  std::vector<ir::Function> kernels;
  CpuTarget target = CpuTarget::host();
  for (const ir::Task& t : tasks) kernels.push_back(implement_cpu(t, target));
  return compile_kernels(kernels);
}

std::vector<CompiledKernel> compile_all_auto(const std::vector<ir::Task>& tasks) {
  std::vector<ir::Function> kernels;
  for (const ir::Task& t : tasks) kernels.push_back(schedules::auto_schedule_cpu(t));
  return compile_kernels(kernels);
}

namespace {

// With TASKMAP_EXPECT_NO_COMPILE=1 (the second run of the ops suites), every kernel must come
// from the cache: the compiler-invocation counter must stay at zero.
class CacheOnlyCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* expect = std::getenv("TASKMAP_EXPECT_NO_COMPILE");
    if (!expect || std::string(expect) != "1") return;
    const build::BuildStats& stats = build::build_stats();
    EXPECT_EQ(stats.compiler_invocations.load(), 0)
        << "the second run of the ops suite invoked the compiler; the kernel cache missed";
    EXPECT_GT(stats.cache_hits.load(), 0) << "the suite loaded no kernel from the cache";
  }
};

const auto* const registered = ::testing::AddGlobalTestEnvironment(new CacheOnlyCheck);

}  // namespace
}  // namespace taskmap::testing
