// The Winograd transforms' matrices, geometry and canonical computes (schedules/winograd.h).
#include "taskmap/schedules/winograd.h"

#include <sstream>

#include "taskmap/error.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

WinogradMatrices make_f2() {
  WinogradMatrices w;
  w.m = 2;
  w.alpha = 4;
  w.bt = {1, 0,  -1, 0,  //
          0, 1,  1,  0,  //
          0, -1, 1,  0,  //
          0, 1,  0,  -1};
  w.g = {1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1};
  w.at = {1, 1, 1,  0,  //
          0, 1, -1, -1};
  return w;
}

WinogradMatrices make_f4() {
  WinogradMatrices w;
  w.m = 4;
  w.alpha = 6;
  w.bt = {4, 0,  -5, 0,  1, 0,  //
          0, -4, -4, 1,  1, 0,  //
          0, 4,  -4, -1, 1, 0,  //
          0, -2, -1, 2,  1, 0,  //
          0, 2,  -1, -2, 1, 0,  //
          0, 4,  0,  -5, 0, 1};
  w.g = {1.0 / 4,  0,         0,         //
         -1.0 / 6, -1.0 / 6,  -1.0 / 6,  //
         -1.0 / 6, 1.0 / 6,   -1.0 / 6,  //
         1.0 / 24, 1.0 / 12,  1.0 / 6,   //
         1.0 / 24, -1.0 / 12, 1.0 / 6,   //
         0,        0,         1};
  w.at = {1, 1, 1,  1, 1,  0,  //
          0, 1, -1, 2, -2, 0,  //
          0, 1, 1,  4, 4,  0,  //
          0, 1, -1, 8, -8, 1};
  return w;
}

// Entry (row, col) of a rows × cols constant table, for symbolic row and col: a chain of
// selects over the nonzero entries (the canonical computes are references; the template
// unrolls the table instead).
Expr table_entry(const std::vector<double>& table, int64_t cols, const Expr& row, const Expr& col) {
  Expr value = float_imm(0.0);
  for (size_t k = table.size(); k-- > 0;) {
    if (table[k] == 0.0) continue;
    const int64_t r = static_cast<int64_t>(k) / cols, c = static_cast<int64_t>(k) % cols;
    value = select(eq(row, int_imm(r)) && eq(col, int_imm(c)), float_imm(table[k]), value);
  }
  return value;
}

}  // namespace

Expr winograd_pixel(const Var& x, const WinogradGeometry& g, const Expr& n, const Expr& row,
                    const Expr& col, const Expr& c) {
  auto clamp = [](const Expr& e, int64_t size) {
    return max(min(e, int_imm(size - 1)), int_imm(0));
  };
  const Expr inside = row >= 0 && row < g.height && col >= 0 && col < g.width;
  return select(inside, load(x, {n, clamp(row, g.height), clamp(col, g.width), c}), float_imm(0.0));
}

const WinogradMatrices& winograd_matrices(int64_t m) {
  static const WinogradMatrices f2 = make_f2(), f4 = make_f4();
  TM_USER_CHECK(m == 2 || m == 4) << "Winograd F(" << m << ", 3) is not supported (m: 2 or 4)";
  return m == 2 ? f2 : f4;
}

std::string WinogradGeometry::str() const {
  std::ostringstream s;
  s << "m" << m << " n" << batch << " h" << height << " w" << width << " c" << channels << " pt"
    << pad_top << " pl" << pad_left << " oh" << out_height << " ow" << out_width;
  return s.str();
}

std::optional<WinogradGeometry> WinogradGeometry::parse(const std::string& text) {
  WinogradGeometry g;
  std::istringstream s(text);
  std::string word;
  const std::pair<const char*, int64_t*> fields[] = {
      {"m", &g.m},         {"n", &g.batch},       {"h", &g.height},
      {"w", &g.width},     {"c", &g.channels},    {"pt", &g.pad_top},
      {"pl", &g.pad_left}, {"oh", &g.out_height}, {"ow", &g.out_width}};
  for (const auto& [key, field] : fields) {
    if (!(s >> word) || word.rfind(key, 0) != 0) return std::nullopt;
    try {
      size_t used = 0;
      *field = std::stoll(word.substr(std::string(key).size()), &used);
      if (used + std::string(key).size() != word.size()) return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (s >> word || (g.m != 2 && g.m != 4) || g.batch < 1 || g.height < 1 || g.width < 1 ||
      g.channels < 1 || g.out_height < 1 || g.out_width < 1)
    return std::nullopt;
  return g;
}

Expr winograd_input_compute(const Var& x, const WinogradGeometry& g) {
  const WinogradMatrices& w = winograd_matrices(g.m);
  const int64_t a = w.alpha;
  return compute("winograd_input", {a * a, g.tiles(), g.channels}, [&](const Index& o) {
    const Expr xi = o[0] / a, nu = o[0] % a;
    const Index tile = unravel_index(o[1], {g.batch, g.tiles_h(), g.tiles_w()});
    return reduce(ReduceOp::sum, {a, a}, [&](const Index& r) {
      const Expr row = tile[1] * g.m - g.pad_top + r[0];
      const Expr col = tile[2] * g.m - g.pad_left + r[1];
      return table_entry(w.bt, a, xi, r[0]) * table_entry(w.bt, a, nu, r[1]) *
             winograd_pixel(x, g, tile[0], row, col, o[2]);
    });
  });
}

Expr winograd_output_compute(const Var& transformed, const Var* bias, const WinogradGeometry& g) {
  const WinogradMatrices& w = winograd_matrices(g.m);
  const int64_t a = w.alpha;
  const int64_t out_channels = transformed.type().shape().back();
  return compute(
      "winograd_output", {g.batch, g.out_height, g.out_width, out_channels}, [&](const Index& o) {
        const Expr tile = (o[0] * g.tiles_h() + o[1] / g.m) * g.tiles_w() + o[2] / g.m;
        Expr sum = reduce(ReduceOp::sum, {a, a}, [&](const Index& r) {
          return table_entry(w.at, a, o[1] % g.m, r[0]) * table_entry(w.at, a, o[2] % g.m, r[1]) *
                 load(transformed, {r[0] * a + r[1], tile, o[3]});
        });
        if (bias != nullptr) sum = sum + load(*bias, {o[3]});
        return sum;
      });
}

std::map<std::string, std::string> winograd_attrs(bool input, const WinogradGeometry& g) {
  return {{"op", input ? "winograd_input" : "winograd_output"}, {"winograd", g.str()}};
}

NDArray winograd_weight(const float* w, int64_t out_channels, int64_t in_channels, int64_t m) {
  const WinogradMatrices& t = winograd_matrices(m);
  const int64_t a = t.alpha;
  NDArray transformed(f32, {a * a, in_channels, out_channels});
  float* u = transformed.data<float>();
  for (int64_t o = 0; o < out_channels; ++o) {
    for (int64_t c = 0; c < in_channels; ++c) {
      const float* g = &w[(o * in_channels + c) * 9];
      double gg[6][3] = {};  // G g: α × 3
      for (int64_t i = 0; i < a; ++i)
        for (int64_t l = 0; l < 3; ++l)
          for (int64_t k = 0; k < 3; ++k) gg[i][l] += t.g_at(i, k) * g[k * 3 + l];
      for (int64_t i = 0; i < a; ++i) {
        for (int64_t j = 0; j < a; ++j) {
          double v = 0;
          for (int64_t l = 0; l < 3; ++l) v += gg[i][l] * t.g_at(j, l);
          u[((i * a + j) * in_channels + c) * out_channels + o] = static_cast<float>(v);
        }
      }
    }
  }
  return transformed;
}

}  // namespace taskmap::schedules
