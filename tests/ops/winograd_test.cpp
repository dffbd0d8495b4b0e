// The Winograd transforms (schedules/winograd.h) and their CPU template (winograd_cpu.h): the
// matrices compute a correlation; the WinogradInput and WinogradOutput operators' tasks are
// taken by the template, and both the template's kernels and the auto-scheduled definitions
// match double-precision references on fresh random data, for both tile sizes, padded and
// overhanging tiles, channels that do and do not fill a vector, with and without a bias. Bad
// attributes are errors that name the node.
#include <cmath>
#include <map>
#include <random>

#include "ops/ops_support.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/schedules/winograd.h"
#include "taskmap/schedules/winograd_cpu.h"
#include "taskmap/target.h"

namespace taskmap::testing {
namespace {

using graph::AttrValue;
using schedules::winograd_matrices;
using schedules::WinogradGeometry;

TEST(Winograd, MatricesComputeACorrelation) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (int64_t m : {2, 4}) {
    const auto& w = winograd_matrices(m);
    std::vector<double> d(w.alpha), g(3);
    for (double& v : d) v = dist(rng);
    for (double& v : g) v = dist(rng);
    for (int64_t r = 0; r < m; ++r) {
      double y = 0;  // Aᵀ [(G g) ⊙ (Bᵀ d)], row r
      for (int64_t k = 0; k < w.alpha; ++k) {
        double gk = 0, dk = 0;
        for (int64_t l = 0; l < 3; ++l) gk += w.g_at(k, l) * g[l];
        for (int64_t i = 0; i < w.alpha; ++i) dk += w.bt_at(k, i) * d[i];
        y += w.at_at(r, k) * gk * dk;
      }
      const double expected = d[r] * g[0] + d[r + 1] * g[1] + d[r + 2] * g[2];
      EXPECT_NEAR(y, expected, 1e-12) << "F(" << m << ", 3), output " << r;
    }
  }
  EXPECT_THROW(winograd_matrices(3), UserError);
}

ir::Task lower(const std::string& type, const std::vector<Shape>& inputs,
               std::map<std::string, AttrValue> attrs) {
  return lower_op(type, inputs, std::move(attrs), graph::kTaskmapDomain);
}

std::string schedule_of(const ir::Task& task) {
  const ir::Function f = implement_cpu(task, CpuTarget::host());
  auto it = f->attrs.find("schedule");
  return it == f->attrs.end() ? "" : it->second;
}

// Runs the template's kernel and the auto-scheduled definition on `inputs`; both outputs.
std::vector<std::vector<float>> run_both(const ir::Task& task,
                                         std::vector<std::vector<float>>& inputs) {
  std::vector<std::vector<float>> outs;
  for (const CompiledKernel& kernel : {compile_all({task})[0], compile_all_auto({task})[0]}) {
    std::vector<void*> args;
    for (auto& in : inputs) args.push_back(in.data());
    std::vector<float> out = poisoned(numel(task.output_params()[0].type().shape()));
    args.push_back(out.data());
    kernel(args);
    outs.push_back(std::move(out));
  }
  return outs;
}

struct InputCase {
  int64_t m, n, h, w, c;
  std::vector<int64_t> pads;  // top, left, bottom, right
};

TEST(Winograd, InputTransformMatchesItsDefinition) {
  const InputCase cases[] = {
      {4, 1, 13, 11, 16, {1, 1, 1, 1}},  // overhanging tiles, one vector of channels
      {4, 2, 9, 10, 20, {2, 0, 0, 2}},   // two images, uneven pads, 20 channels
      {2, 1, 7, 6, 32, {1, 1, 1, 1}},
      {2, 1, 5, 9, 3, {0, 0, 0, 0}},  // unpadded, 3 channels
  };
  for (const InputCase& k : cases) {
    const std::string what =
        "F(" + std::to_string(k.m) + ", 3) input " + shape_str({k.n, k.h, k.w, k.c});
    ir::Task task =
        lower("WinogradInput", {{k.n, k.h, k.w, k.c}}, {{"tile", k.m}, {"pads", k.pads}});
    EXPECT_EQ(schedule_of(task).rfind("winograd_cpu", 0), 0u) << what;
    WinogradGeometry g;
    g.m = k.m;
    g.batch = k.n;
    g.height = k.h;
    g.width = k.w;
    g.channels = k.c;
    g.pad_top = k.pads[0];
    g.pad_left = k.pads[1];
    g.out_height = k.h + k.pads[0] + k.pads[2] - 2;
    g.out_width = k.w + k.pads[1] + k.pads[3] - 2;
    const auto& mat = winograd_matrices(k.m);
    const int64_t a = mat.alpha;
    ASSERT_EQ(task.output_params()[0].type().shape(),
              (std::vector<int64_t>{a * a, g.tiles(), k.c}));

    std::vector<std::vector<float>> inputs = {random_data(k.n * k.h * k.w * k.c)};
    const std::vector<float>& x = inputs[0];
    auto pixel = [&](int64_t n, int64_t row, int64_t col, int64_t c) -> double {
      if (row < 0 || row >= k.h || col < 0 || col >= k.w) return 0.0;
      return x[((n * k.h + row) * k.w + col) * k.c + c];
    };
    std::vector<double> expected, scale;
    for (int64_t xi = 0; xi < a; ++xi)
      for (int64_t nu = 0; nu < a; ++nu)
        for (int64_t n = 0; n < k.n; ++n)
          for (int64_t ty = 0; ty < g.tiles_h(); ++ty)
            for (int64_t tx = 0; tx < g.tiles_w(); ++tx)
              for (int64_t c = 0; c < k.c; ++c) {
                double sum = 0, magnitude = 0;
                for (int64_t i = 0; i < a; ++i)
                  for (int64_t j = 0; j < a; ++j) {
                    const double t =
                        mat.bt_at(xi, i) * mat.bt_at(nu, j) *
                        pixel(n, ty * k.m - k.pads[0] + i, tx * k.m - k.pads[1] + j, c);
                    sum += t;
                    magnitude += std::abs(t);
                  }
                expected.push_back(sum);
                scale.push_back(magnitude);
              }
    std::vector<std::vector<float>> outs = run_both(task, inputs);
    expect_close(outs[0], expected, scale, what + " (template)");
    expect_close(outs[1], expected, scale, what + " (definition)");
  }
}

struct OutputCase {
  int64_t m, n, oh, ow, o;
  bool bias;
};

TEST(Winograd, OutputTransformMatchesItsDefinition) {
  const OutputCase cases[] = {
      {4, 1, 13, 11, 16, true},  // overhanging tiles
      {4, 2, 8, 8, 20, false},   // whole tiles, 20 channels
      {2, 1, 7, 6, 32, true},
      {2, 1, 4, 4, 5, false},
  };
  for (const OutputCase& k : cases) {
    const std::string what = "F(" + std::to_string(k.m) + ", 3) output " +
                             shape_str({k.n, k.oh, k.ow, k.o}) + (k.bias ? " + bias" : "");
    WinogradGeometry g;
    g.m = k.m;
    g.batch = k.n;
    g.out_height = k.oh;
    g.out_width = k.ow;
    const auto& mat = winograd_matrices(k.m);
    const int64_t a = mat.alpha, tiles = g.tiles();
    std::vector<Shape> shapes = {{a * a, tiles, k.o}};
    if (k.bias) shapes.push_back({k.o});
    ir::Task task = lower("WinogradOutput", shapes,
                          {{"tile", k.m}, {"output_shape", std::vector<int64_t>{k.n, k.oh, k.ow}}});
    EXPECT_EQ(schedule_of(task).rfind("winograd_cpu", 0), 0u) << what;

    std::vector<std::vector<float>> inputs = {random_data(a * a * tiles * k.o)};
    if (k.bias) inputs.push_back(random_data(k.o));
    const std::vector<float>& t = inputs[0];
    std::vector<double> expected, scale;
    for (int64_t n = 0; n < k.n; ++n)
      for (int64_t h = 0; h < k.oh; ++h)
        for (int64_t w = 0; w < k.ow; ++w)
          for (int64_t o = 0; o < k.o; ++o) {
            const int64_t tile = (n * g.tiles_h() + h / k.m) * g.tiles_w() + w / k.m;
            double sum = k.bias ? inputs[1][o] : 0.0, magnitude = std::abs(sum);
            for (int64_t xi = 0; xi < a; ++xi)
              for (int64_t nu = 0; nu < a; ++nu) {
                const double v = mat.at_at(h % k.m, xi) * mat.at_at(w % k.m, nu) *
                                 t[((xi * a + nu) * tiles + tile) * k.o + o];
                sum += v;
                magnitude += std::abs(v);
              }
            expected.push_back(sum);
            scale.push_back(magnitude);
          }
    std::vector<std::vector<float>> outs = run_both(task, inputs);
    expect_close(outs[0], expected, scale, what + " (template)");
    expect_close(outs[1], expected, scale, what + " (definition)");
  }
}

TEST(Winograd, BadAttributesNameTheNode) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string m = message([] { lower("WinogradInput", {{1, 8, 8, 16}}, {{"tile", int64_t{3}}}); });
  EXPECT_NE(m.find("WinogradInput"), std::string::npos) << m;
  EXPECT_NE(m.find("tile must be 2 or 4"), std::string::npos) << m;
  m = message([] {
    lower("WinogradOutput", {{36, 5, 16}},
          {{"tile", int64_t{4}}, {"output_shape", std::vector<int64_t>{1, 8, 8}}});
  });
  EXPECT_NE(m.find("M must be [36, 4, O]"), std::string::npos) << m;
  m = message([] {
    lower("WinogradInput", {{1, 8, 8, 16}}, {{"pads", std::vector<int64_t>{3, 0, 0, 0}}});
  });
  EXPECT_NE(m.find("pads must be"), std::string::npos) << m;
}

}  // namespace
}  // namespace taskmap::testing
