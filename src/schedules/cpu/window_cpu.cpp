// The sliding-window template (window_cpu.h has the loop structure).
#include "taskmap/schedules/window_cpu.h"

#include <algorithm>
#include <functional>

#include "schedules/cpu/template_util.h"
#include "taskmap/arith/bound.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

// Border rows and columns up to this many are emitted one by one with constant positions (their
// masks then fold to conditions on the window alone, or disappear); wider borders run as loops.
constexpr int64_t kMaxUnrolledBorder = 4;
// The unrolled window of one tile (window positions × rows × vectors) stays below this.
constexpr int64_t kMaxTileTerms = 512;

// A run of output columns: `count` tiles of `vectors` × `width` columns starting at `begin`
// (a loop over the tiles when there are several). A tile runs its `width` lanes as one
// vectorized loop (no loop for a single column).
struct Columns {
  int64_t begin = 0, count = 1, vectors = 1, width = 1;
};

// Emits the kernel body, knowing at every point the ranges of the variables in scope, so that
// each region's terms simplify to what that region needs.
class WindowEmitter : RangedEmitter {
 public:
  WindowEmitter(KernelBuilder& kb, const WindowForm& f, const WindowConfig& cfg, Var out)
      : RangedEmitter(kb),
        f_(f),
        cfg_(cfg),
        out_(std::move(out)),
        positions_(window_positions(f.r_extents)) {
    columns_ = column_plan();
  }

  void emit();
  int64_t bands() const { return bands_; }

 private:
  using Rows = std::vector<Expr>;

  std::vector<Columns> column_plan() const;
  Expr term(const Expr& oh, const Expr& ow, int64_t k) const;
  Expr output(const Expr& acc, const Expr& oh, const Expr& ow) const;
  void tile(const Rows& rows, const std::function<Expr(const Expr&, int64_t)>& column,
            int64_t width, int64_t vectors);
  void columns(const Rows& rows, const Columns& c);
  void row_block(const Rows& rows);
  void border_rows(int64_t begin, int64_t end);

  const WindowForm& f_;
  const WindowConfig& cfg_;
  Var out_;
  Expr n_, c_;
  std::vector<std::vector<Expr>> positions_;  // the window axes' values at each position
  std::vector<Columns> columns_;
  int64_t bands_ = 1;
};

std::vector<Columns> WindowEmitter::column_plan() const {
  const int64_t width = f_.extents[3], lanes = cfg_.lanes;
  int64_t begin = f_.col_begin, end = f_.col_end;
  if (end <= begin) begin = end = 0;
  std::vector<Columns> plan;
  auto border = [&](int64_t a, int64_t b) {
    if (b - a > kMaxUnrolledBorder) return plan.push_back({a, 1, 1, b - a});
    for (int64_t o = a; o < b; ++o) plan.push_back({o, 1, 1, 1});
  };
  border(0, begin);
  int64_t at = begin;
  const int64_t wide = (end - at) / (cfg_.vectors * lanes);
  if (wide > 0) plan.push_back({at, wide, cfg_.vectors, lanes});
  at += wide * cfg_.vectors * lanes;
  const int64_t narrow = (end - at) / lanes;
  if (narrow > 0) plan.push_back({at, narrow, 1, lanes});
  at += narrow * lanes;
  // The ragged rest: one more vector ending at the interior's end when the interior is that
  // wide (it overlaps the previous tile, whose columns it writes again with the same values),
  // else a narrower loop.
  if (end > at)
    plan.push_back(end - begin >= lanes ? Columns{end - lanes, 1, 1, lanes}
                                        : Columns{at, 1, 1, end - at});
  border(end, width);
  return plan;
}

Expr WindowEmitter::term(const Expr& oh, const Expr& ow, int64_t k) const {
  std::vector<std::pair<Var, Expr>> map = {
      {f_.axes[0], n_}, {f_.axes[1], c_}, {f_.axes[2], oh}, {f_.axes[3], ow}};
  for (size_t d = 0; d < f_.r_axes.size(); ++d) map.emplace_back(f_.r_axes[d], positions_[k][d]);
  return simplified(substitute(f_.term, map));
}

Expr WindowEmitter::output(const Expr& acc, const Expr& oh, const Expr& ow) const {
  std::vector<std::pair<Var, Expr>> map = {
      {f_.axes[0], n_}, {f_.axes[1], c_}, {f_.axes[2], oh}, {f_.axes[3], ow}, {f_.acc, acc}};
  return simplified(substitute(f_.epilogue, map));
}

// One tile: rows × vectors accumulators per lane, the window unrolled position by position
// (each position's weight is read once for the whole tile), then the epilogue's element stores.
void WindowEmitter::tile(const Rows& rows, const std::function<Expr(const Expr&, int64_t)>& column,
                         int64_t width, int64_t vectors) {
  auto body = [&](const Expr& lane) {
    std::vector<Expr> cols;
    for (int64_t j = 0; j < vectors; ++j) cols.push_back(simplified(column(lane, j)));
    std::vector<Var> acc(rows.size() * vectors);
    for (int64_t k = 0; k < f_.window; ++k) {
      for (size_t i = 0; i < rows.size(); ++i) {
        for (int64_t j = 0; j < vectors; ++j) {
          Expr t = term(rows[i], cols[j], k);
          if (is_reduction_identity(f_.op, t)) continue;
          Var& a = acc[i * vectors + j];
          if (!a.defined()) {
            a = kb_.scalar("acc", f32, t);
            continue;
          }
          // A max or min reads the term twice in its selects; named, its loads are
          // unconditional and the loop stays vectorizable.
          if (f_.op != ReduceOp::sum) t = kb_.scalar("term", f32, t);
          kb_.assign(a, combine_reduction(f_.op, a, t));
        }
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      for (int64_t j = 0; j < vectors; ++j) {
        const Var& a = acc[i * vectors + j];
        Expr value = a.defined() ? Expr(a) : float_imm(reduction_identity(f_.op));
        kb_.store(out_, {n_, c_, rows[i], cols[j]}, output(value, rows[i], cols[j]));
      }
    }
  };
  if (width == 1) return body(int_imm(0));
  loop("u", width, LoopHint::vectorize(), body);
}

void WindowEmitter::columns(const Rows& rows, const Columns& c) {
  const int64_t step = c.vectors * c.width;
  if (c.count == 1) {
    tile(
        rows, [&](const Expr& lane, int64_t j) { return c.begin + j * c.width + lane; }, c.width,
        c.vectors);
    return;
  }
  loop("t", c.count, LoopHint::serial(), [&](const Var& t) {
    let("ow0", c.begin + t * step, [&](const Var& ow0) {
      tile(
          rows, [&](const Expr& lane, int64_t j) { return ow0 + j * c.width + lane; }, c.width,
          c.vectors);
    });
  });
}

void WindowEmitter::row_block(const Rows& rows) {
  for (const Columns& c : columns_) columns(rows, c);
}

void WindowEmitter::border_rows(int64_t begin, int64_t end) {
  if (end - begin <= kMaxUnrolledBorder) {
    for (int64_t oh = begin; oh < end; ++oh) row_block({int_imm(oh)});
    return;
  }
  loop("oh", end - begin, LoopHint::serial(),
       [&](const Var& i) { row_block({simplified(begin + i)}); });
}

void WindowEmitter::emit() {
  const int64_t height = f_.extents[2], r = cfg_.rows;
  int64_t begin = f_.row_begin, end = f_.row_end;
  if (end <= begin) begin = end = 0;
  const int64_t blocks = (end - begin) / r, rest = (end - begin) % r;
  const int64_t planes = f_.extents[0] * f_.extents[1];
  // Planes split into bands of row blocks until every core has tasks_per_core tasks.
  const int64_t wanted = cfg_.tasks_per_core * std::max(cfg_.cores, 1);
  if (blocks > 1 && planes < wanted) bands_ = std::min(blocks, ceil_div(wanted, planes));
  const int64_t per_band = blocks > 0 ? ceil_div(blocks, bands_) : 0;
  if (blocks > 0) bands_ = ceil_div(blocks, per_band);

  // Band `band` of a plane: its interior row blocks; the first band also takes the border rows
  // above, the last the rest of the interior and the border rows below.
  auto first = [&] { border_rows(0, begin); };
  auto last = [&] {
    if (rest > 0) {
      Rows rows;
      for (int64_t i = 0; i < rest; ++i) rows.push_back(int_imm(begin + blocks * r + i));
      row_block(rows);
    }
    border_rows(end, height);
  };
  auto interior = [&](const Expr& band) {
    if (blocks == 0) return;
    loop("b", per_band, LoopHint::serial(), [&](const Var& b) {
      let("ib", band * per_band + b, [&](const Var& ib) {
        auto block = [&] {
          let("oh0", begin + ib * r, [&](const Var& oh0) {
            Rows rows;
            for (int64_t i = 0; i < r; ++i) rows.push_back(simplified(oh0 + i));
            row_block(rows);
          });
        };
        if (per_band * bands_ == blocks) return block();
        kb_.if_then(ib < blocks, [&] {
          arith::IntBound old = *bounds_.binding(ib);
          bounds_.bind(ib, {old.min, blocks - 1});
          block();
          bounds_.bind(ib, old);
        });
      });
    });
  };
  const TaskMapping tasks = TaskMapping::spatial({f_.extents[0], f_.extents[1], bands_});
  loop("w", tasks.num_workers(), LoopHint::parallel(), [&](const Var& w) {
    kb_.for_mapping(tasks, w,
                    [&](const Index& task) {
                      for (size_t d = 0; d < task.size(); ++d) {
                        if (task[d].as<VarNode>())
                          bounds_.bind_range(Var::from(task[d]), tasks.task_shape()[d]);
                      }
                      n_ = task[0];
                      c_ = task[1];
                      if (bands_ == 1) {
                        first();
                        interior(int_imm(0));
                        last();
                      } else {
                        kb_.if_then(eq(task[2], 0), first);
                        interior(task[2]);
                        kb_.if_then(eq(task[2], bands_ - 1), last);
                      }
                      for (const Expr& e : task) {
                        if (e.as<VarNode>()) bounds_.unbind(Var::from(e));
                      }
                    },
                    {"n", "c", "band"});
  });
}

}  // namespace

std::string WindowConfig::str() const {
  return "tile " + std::to_string(rows) + "x" + std::to_string(vectors) + "x" +
         std::to_string(lanes);
}

WindowConfig default_window_config(const CpuTarget& target, const WindowForm& form) {
  WindowConfig c;
  c.lanes = std::max(target.vector_bytes() / 4, 4);
  // 32 vector registers (AVX-512) hold 4 × 2 accumulators and the rows of inputs they share;
  // 16 hold 4 × 1.
  c.vectors = target.isa == CpuTarget::Isa::avx512 ? 2 : 1;
  c.rows = 4;
  while (form.window * c.rows * c.vectors > kMaxTileTerms && c.rows > 1) c.rows /= 2;
  if (form.window * c.rows * c.vectors > kMaxTileTerms) c.vectors = 1;
  c.cores = target.cores;
  return c;
}

Function window_cpu(const Task& task, const WindowForm& form, const WindowConfig& config,
                    const std::string& schedule) {
  TM_USER_CHECK(config.lanes > 0 && config.vectors > 0 && config.rows > 0)
      << "window config (" << config.str() << "): sizes must be positive";
  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  WindowEmitter emitter(kb, form, config, task.output_params()[0]);
  emitter.emit();
  auto range = [](int64_t a, int64_t b) {
    return "[" + std::to_string(a) + ", " + std::to_string(std::max(a, b)) + ")";
  };
  const std::vector<int64_t>& e = form.extents;
  kb.attr("task", task.name());
  kb.attr("schedule", schedule + " (" + config.str() + ")");
  kb.attr("problem", std::to_string(e[0]) + "x" + std::to_string(e[1]) + "x" +
                         std::to_string(e[2]) + "x" + std::to_string(e[3]) + ", window " +
                         std::to_string(form.window) + "; interior rows " +
                         range(form.row_begin, form.row_end) + ", columns " +
                         range(form.col_begin, form.col_end) + "; " +
                         std::to_string(emitter.bands()) + " band(s) per plane");
  return kb.build();
}

}  // namespace taskmap::schedules
