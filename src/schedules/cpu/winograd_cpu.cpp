// The Winograd transforms' CPU template (winograd_cpu.h has the loop structure).
#include "taskmap/schedules/winograd_cpu.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/equality.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

// Σ coefficient · value over the nonzero coefficients, a ±1 without its multiply.
Expr linear_combination(const std::vector<double>& coefficients, const std::vector<Expr>& values) {
  Expr sum;
  for (size_t k = 0; k < coefficients.size(); ++k) {
    const double c = coefficients[k];
    if (c == 0.0) continue;
    const bool negative = c < 0;
    const Expr term = std::abs(c) == 1.0 ? values[k] : float_imm(std::abs(c)) * values[k];
    if (!sum.defined()) {
      sum = negative ? -term : term;
    } else {
      sum = negative ? sum - term : sum + term;
    }
  }
  return sum.defined() ? sum : float_imm(0.0);
}

// Row `r` of a row-major table with `cols` columns.
std::vector<double> table_row(const std::vector<double>& table, int64_t cols, int64_t r) {
  return {table.begin() + r * cols, table.begin() + (r + 1) * cols};
}

class WinogradEmitter : RangedEmitter {
 public:
  WinogradEmitter(KernelBuilder& kb, const Task& task, const WinogradPlan& plan)
      : RangedEmitter(kb),
        task_(task),
        plan_(plan),
        g_(plan.geometry),
        w_(winograd_matrices(plan.geometry.m)) {}

  void emit() {
    const TaskMapping tasks = TaskMapping::spatial({g_.batch * g_.tiles_h(), g_.tiles_w()});
    loop("w", tasks.num_workers(), LoopHint::parallel(), [&](const Var& w) {
      for_mapping(tasks, w,
                  [&](const Index& task) {
                    const Expr tile = simplified(task[0] * g_.tiles_w() + task[1]);
                    let("n", task[0] / g_.tiles_h(), [&](const Var& n) {
                      let("ty", task[0] % g_.tiles_h(),
                          [&](const Var& ty) { tile_at(n, ty, task[1], tile); });
                    });
                  },
                  {"tile_row", "tx"});
    });
  }

 private:
  // The tiles with ty in [y0, y1] and tx in [x0, x1] need no masks: those run with ty and tx
  // clamped into that range (they are in it), from which bound analysis proves every mask.
  void tile_at(const Expr& n, const Expr& ty, const Expr& tx, const Expr& tile) {
    int64_t y0, y1, x0, x1;
    if (plan_.input) {
      // The patch's rows ty·m - pt .. ty·m - pt + α - 1 lie in [0, height).
      y0 = ceil_div(g_.pad_top, g_.m);
      y1 = floor_div(g_.height - g_.alpha() + g_.pad_top, g_.m);
      x0 = ceil_div(g_.pad_left, g_.m);
      x1 = floor_div(g_.width - g_.alpha() + g_.pad_left, g_.m);
    } else {
      // The tile's outputs lie in [0, out_height) x [0, out_width).
      y0 = x0 = 0;
      y1 = g_.out_height / g_.m - 1;
      x1 = g_.out_width / g_.m - 1;
    }
    y1 = std::min(y1, g_.tiles_h() - 1);
    x1 = std::min(x1, g_.tiles_w() - 1);
    auto body = [&](const Expr& row, const Expr& col) {
      channels([&](const Expr& c) {
        if (plan_.input) {
          input_tile(n, row, col, tile, c);
        } else {
          output_tile(n, row, col, tile, c);
        }
      });
    };
    auto border = [&] { body(ty, tx); };
    if (y0 > y1 || x0 > x1) return border();
    auto interior = [&] {
      let("ty_in", max(min(ty, int_imm(y1)), int_imm(y0)), [&](const Var& row) {
        let("tx_in", max(min(tx, int_imm(x1)), int_imm(x0)),
            [&](const Var& col) { body(row, col); });
      });
    };
    if (y0 == 0 && x0 == 0 && y1 == g_.tiles_h() - 1 && x1 == g_.tiles_w() - 1) return interior();
    kb_.if_then_else(ty >= y0 && ty <= y1 && tx >= x0 && tx <= x1, interior, border);
  }

  // `body` for every channel c, the innermost loop vectorized.
  void channels(const std::function<void(const Expr&)>& body) {
    const int64_t count = plan_.input ? g_.channels : task_.output_params()[0].type().shape()[3];
    if (count % plan_.lanes != 0) {
      loop("c", count, LoopHint::vectorize(), [&](const Var& c) { body(c); });
      return;
    }
    loop("chunk", count / plan_.lanes, LoopHint::serial(), [&](const Var& chunk) {
      loop("lane", plan_.lanes, LoopHint::vectorize(),
           [&](const Var& lane) { body(simplified(chunk * plan_.lanes + lane)); });
    });
  }

  // table · values for a constant table of `rows` rows (row-major) and α × α values, each
  // entry named as a scalar `name`: Bᵀ d and Aᵀ M, the first half of each transform.
  std::vector<std::vector<Expr>> table_times(const std::vector<double>& table, int64_t rows,
                                             const std::vector<std::vector<Expr>>& values,
                                             const std::string& name) {
    const int64_t a = w_.alpha;
    std::vector<std::vector<Expr>> product(rows, std::vector<Expr>(a));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < a; ++j) {
        std::vector<Expr> column;
        for (int64_t i = 0; i < a; ++i) column.push_back(values[i][j]);
        product[r][j] = kb_.scalar(name, f32, linear_combination(table_row(table, a, r), column));
      }
    }
    return product;
  }

  // V[ξν, tile, c] = (Bᵀ d B)[ξ, ν] for the patch d at tile (ty, tx).
  void input_tile(const Expr& n, const Expr& ty, const Expr& tx, const Expr& tile, const Expr& c) {
    const int64_t a = w_.alpha;
    const Var& x = task_.inputs()[0];
    std::vector<std::vector<Expr>> d(a, std::vector<Expr>(a));
    for (int64_t i = 0; i < a; ++i) {
      for (int64_t j = 0; j < a; ++j) {
        const Expr row = ty * g_.m - g_.pad_top + i, col = tx * g_.m - g_.pad_left + j;
        d[i][j] = kb_.scalar("d", f32, simplified(winograd_pixel(x, g_, n, row, col, c)));
      }
    }
    // t = Bᵀ d, then V = t B: row ξ of t against row ν of Bᵀ.
    const std::vector<std::vector<Expr>> t = table_times(w_.bt, a, d, "t");
    const Var& v = task_.output_params()[0];
    for (int64_t xi = 0; xi < a; ++xi)
      for (int64_t nu = 0; nu < a; ++nu)
        kb_.store(v, {int_imm(xi * a + nu), tile, c},
                  linear_combination(table_row(w_.bt, a, nu), t[xi]));
  }

  // y[n, ty·m + r, tx·m + s, c] = (Aᵀ M A)[r, s] (+ bias[c]) for the tile's α² values M.
  void output_tile(const Expr& n, const Expr& ty, const Expr& tx, const Expr& tile, const Expr& c) {
    const int64_t a = w_.alpha, m = g_.m;
    const Var& transformed = task_.inputs()[0];
    std::vector<std::vector<Expr>> values(a, std::vector<Expr>(a));
    for (int64_t xi = 0; xi < a; ++xi)
      for (int64_t nu = 0; nu < a; ++nu)
        values[xi][nu] = kb_.scalar("v", f32, load(transformed, {int_imm(xi * a + nu), tile, c}));
    // s = Aᵀ M (m × α), then y = s A: row r of s against row q of Aᵀ.
    const std::vector<std::vector<Expr>> s = table_times(w_.at, m, values, "s");
    Expr bias;
    if (task_.inputs().size() > 1) bias = kb_.scalar("bias", f32, load(task_.inputs()[1], {c}));
    const Var& y = task_.output_params()[0];
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t q = 0; q < m; ++q) {
        Expr value = linear_combination(table_row(w_.at, a, q), s[r]);
        if (bias.defined()) value = value + bias;
        const Expr row = simplified(ty * m + r), col = simplified(tx * m + q);
        const Expr inside = simplified(row < g_.out_height && col < g_.out_width);
        auto store = [&] { kb_.store(y, {n, row, col, c}, value); };
        if (is_const_int(inside, 1)) {
          store();
        } else if (!is_const_int(inside, 0)) {
          kb_.if_then(inside, store);
        }
      }
    }
  }

  const Task& task_;
  const WinogradPlan& plan_;
  const WinogradGeometry& g_;
  const WinogradMatrices& w_;
};

}  // namespace

std::string WinogradPlan::str() const {
  return std::string(input ? "input" : "output") + " transform F(" + std::to_string(geometry.m) +
         ", 3), " + std::to_string(lanes) + " lanes";
}

std::optional<WinogradPlan> plan_winograd(const Task& task, const CpuTarget& target) {
  auto op = task.attrs().find("op");
  auto geometry = task.attrs().find("winograd");
  if (op == task.attrs().end() || geometry == task.attrs().end() || task.outputs().size() != 1)
    return std::nullopt;
  const bool input = op->second == "winograd_input";
  if (!input && op->second != "winograd_output") return std::nullopt;
  std::optional<WinogradGeometry> g = WinogradGeometry::parse(geometry->second);
  if (!g) return std::nullopt;
  const std::vector<Var>& in = task.inputs();
  if (in.empty() || in.size() > (input ? 1u : 2u)) return std::nullopt;
  for (const Var& v : in)
    if (v.dtype() != f32) return std::nullopt;
  const std::vector<int64_t>& shape = in[0].type().shape();
  const int64_t squares = g->alpha() * g->alpha();
  if (input) {
    if (shape != std::vector<int64_t>{g->batch, g->height, g->width, g->channels})
      return std::nullopt;
  } else if (shape.size() != 3 || shape[0] != squares || shape[1] != g->tiles() ||
             (in.size() == 2 && in[1].type().shape() != std::vector<int64_t>{shape[2]})) {
    return std::nullopt;
  }
  // The computes must be the canonical ones: the template implements those alone.
  const Expr reference =
      input ? winograd_input_compute(in[0], *g)
            : winograd_output_compute(in[0], in.size() == 2 ? &in[1] : nullptr, *g);
  if (!struct_equal(task.outputs()[0], reference)) return std::nullopt;
  WinogradPlan plan;
  plan.input = input;
  plan.geometry = *g;
  plan.lanes = std::max(target.vector_bytes() / 4, 4);
  return plan;
}

Function winograd_cpu(const Task& task, const WinogradPlan& plan) {
  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  WinogradEmitter(kb, task, plan).emit();
  kb.attr("task", task.name());
  kb.attr("schedule", "winograd_cpu (" + plan.str() + ")");
  kb.attr("problem", plan.geometry.str());
  return kb.build();
}

}  // namespace taskmap::schedules
