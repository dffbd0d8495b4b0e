// The channels-last sliding-window template (channels_last_window_cpu.h has the loop structure).
#include "taskmap/schedules/channels_last_window_cpu.h"

#include <algorithm>
#include <functional>
#include <limits>

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

// Emits the kernel body, knowing the ranges of the variables in scope, so that each region's
// terms simplify to what that region needs (the masks and clamps of an interior tile vanish).
class ChannelsLastEmitter : RangedEmitter {
 public:
  ChannelsLastEmitter(KernelBuilder& kb, const ChannelsLastWindowPlan& plan, Var out)
      : RangedEmitter(kb),
        f_(plan.form),
        plan_(plan),
        out_(std::move(out)),
        positions_(window_positions(f_.r_extents)) {}

  void emit() {
    const std::vector<int64_t>& e = f_.extents;
    const TaskMapping tasks = TaskMapping::spatial({e[0], e[1], plan_.groups});
    loop("w", tasks.num_workers(), LoopHint::parallel(), [&](const Var& w) {
      for_mapping(tasks, w,
                  [&](const Index& task) {
                    n_ = task[0];
                    group_ = task[2];
                    row(task[1]);
                  },
                  {"n", "oh", "group"});
    });
  }

 private:
  std::vector<std::pair<Var, Expr>> bindings(const Expr& oh, const Expr& ow, const Expr& c) const {
    return {{f_.axes[0], n_}, {f_.axes[1], oh}, {f_.axes[2], ow}, {f_.axes[3], c}};
  }

  // Output pixels (oh, ow) for ow in `cols`, all channels of the chunk: one accumulator per
  // pixel and lane, the window unrolled position by position across the pixels.
  void tile(const Expr& oh, const std::vector<Expr>& cols) {
    const int64_t chunks = f_.extents[3] / plan_.lanes / plan_.groups;
    loop("chunk", chunks, LoopHint::serial(), [&](const Var& chunk) {
      loop("lane", plan_.lanes, LoopHint::vectorize(), [&](const Var& lane) {
        lanes(oh, cols, (group_ * chunks + chunk) * plan_.lanes + lane);
      });
    });
  }

  // The tile's pixels for one vector of channels. A max or min takes the plain comparison
  // (one vmaxps) and keeps whether a NaN went by apart, instead of testing the accumulator
  // for NaN at every step: that test sat on the chain of dependent steps (3 compares, a mask
  // or, a blend), 2.5x slower than the loads allow.
  void lanes(const Expr& oh, const std::vector<Expr>& cols, const Expr& channel) {
    const Expr c = simplified(channel);
    const bool extreme = f_.op == ReduceOp::max || f_.op == ReduceOp::min;
    std::vector<Var> acc(cols.size()), nan(cols.size());
    for (int64_t k = 0; k < f_.window; ++k) {
      for (size_t j = 0; j < cols.size(); ++j) {
        auto map = bindings(oh, cols[j], c);
        for (size_t d = 0; d < f_.r_axes.size(); ++d)
          map.emplace_back(f_.r_axes[d], positions_[k][d]);
        Expr t = simplified(substitute(f_.term, map));
        if (is_reduction_identity(f_.op, t)) continue;
        if (extreme) t = kb_.scalar("term", f32, t);
        if (!acc[j].defined()) {
          acc[j] = kb_.scalar("acc", f32, t);
          if (extreme) nan[j] = kb_.scalar("nan", ir::boolean, ne(t, t));
          continue;
        }
        if (!extreme) {
          kb_.assign(acc[j], combine_reduction(f_.op, acc[j], t));
          continue;
        }
        const Expr better = f_.op == ReduceOp::max ? t > acc[j] : t < acc[j];
        kb_.assign(acc[j], select(better, t, acc[j]));
        kb_.assign(nan[j], nan[j] || ne(t, t));
      }
    }
    for (size_t j = 0; j < cols.size(); ++j) {
      Expr value = acc[j].defined() ? Expr(acc[j]) : float_imm(reduction_identity(f_.op));
      if (nan[j].defined())
        value = select(nan[j], float_imm(std::numeric_limits<double>::quiet_NaN()), value);
      auto map = bindings(oh, cols[j], c);
      map.emplace_back(f_.acc, value);
      kb_.store(out_, {n_, oh, cols[j], c}, simplified(substitute(f_.epilogue, map)));
    }
  }

  // Columns [begin, end) of row oh, one at a time.
  void single_columns(const Expr& oh, int64_t begin, int64_t end) {
    if (end <= begin) return;
    loop("ow", end - begin, LoopHint::serial(),
         [&](const Var& i) { let("ow", begin + i, [&](const Var& ow) { tile(oh, {ow}); }); });
  }

  void row(const Expr& oh) {
    const int64_t height = f_.extents[1], width = f_.extents[2];
    const int64_t begin = f_.col_begin, end = f_.col_end;
    const bool rows = f_.row_end > f_.row_begin, cols = end > begin;
    // A border row (or no interior at all): every column masked.
    auto masked_row = [&] { single_columns(oh, 0, width); };
    if (!rows || !cols) return masked_row();
    auto interior_row = [&] {
      // The same row, its value clamped into the interior (it is there): bound analysis then
      // proves every row mask of the tiles.
      let("oh_in", max(min(oh, int_imm(f_.row_end - 1)), int_imm(f_.row_begin)),
          [&](const Var& row) {
            single_columns(row, 0, begin);
            const int64_t tiles = (end - begin) / plan_.pixels;
            if (tiles > 0) {
              loop("t", tiles, LoopHint::serial(), [&](const Var& t) {
                let("ow0", begin + t * plan_.pixels, [&](const Var& ow0) {
                  std::vector<Expr> pixels;
                  for (int64_t j = 0; j < plan_.pixels; ++j) pixels.push_back(simplified(ow0 + j));
                  tile(row, pixels);
                });
              });
            }
            single_columns(row, begin + tiles * plan_.pixels, end);
            single_columns(row, end, width);
          });
    };
    if (f_.row_begin == 0 && f_.row_end == height) return interior_row();
    kb_.if_then_else(oh < f_.row_begin || oh >= f_.row_end, masked_row, interior_row);
  }

  const WindowForm& f_;
  const ChannelsLastWindowPlan& plan_;
  Var out_;
  Expr n_, group_;
  std::vector<std::vector<Expr>> positions_;  // the window axes' values at each position
};

}  // namespace

std::string ChannelsLastWindowPlan::str() const {
  return "tile " + std::to_string(pixels) + "x" + std::to_string(lanes) + ", " +
         std::to_string(groups) + " channel group(s)";
}

std::optional<ChannelsLastWindowPlan> plan_channels_last_window(const Task& task,
                                                                const CpuTarget& target) {
  std::optional<WindowForm> form = analyze_window(task, /*channels_last=*/true);
  if (!form) return {};
  ChannelsLastWindowPlan plan;
  plan.form = *form;
  plan.lanes = std::max(target.vector_bytes() / 4, 4);
  if (form->extents[3] % plan.lanes != 0) return {};
  // Four pixels' accumulators and a 3 × 3 depthwise weight's nine vectors fit 16 registers
  // with room for the loads; the pixels' independent sums hide the add latency.
  plan.pixels = 4;
  // Rows are the cores' tasks; a small image's channels split into groups until every core
  // has a few (a 7 x 7 image has 7 rows).
  const int64_t chunks = form->extents[3] / plan.lanes, rows = form->extents[0] * form->extents[1];
  const int64_t wanted = 4 * std::max(target.cores, 1);
  while (rows * plan.groups < wanted && plan.groups < chunks) {
    int64_t next = plan.groups + 1;
    while (chunks % next != 0) ++next;
    plan.groups = next;
  }
  return plan;
}

Function channels_last_window_cpu(const Task& task, const ChannelsLastWindowPlan& plan) {
  TM_USER_CHECK(plan.lanes > 0 && plan.pixels > 0 && plan.form.extents[3] % plan.lanes == 0)
      << "channels-last window plan (" << plan.str() << "): the channels must fill the vectors";
  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  ChannelsLastEmitter(kb, plan, task.output_params()[0]).emit();
  const WindowForm& f = plan.form;
  auto range = [](int64_t a, int64_t b) {
    return "[" + std::to_string(a) + ", " + std::to_string(std::max(a, b)) + ")";
  };
  const std::vector<int64_t>& e = f.extents;
  kb.attr("task", task.name());
  kb.attr("schedule", "channels_last_window_cpu (" + plan.str() + ")");
  kb.attr("problem",
          std::to_string(e[0]) + "x" + std::to_string(e[1]) + "x" + std::to_string(e[2]) + "x" +
              std::to_string(e[3]) + ", window " + std::to_string(f.window) + "; interior rows " +
              range(f.row_begin, f.row_end) + ", columns " + range(f.col_begin, f.col_end));
  return kb.build();
}

}  // namespace taskmap::schedules
