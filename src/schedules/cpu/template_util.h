#pragma once
// What the CPU templates share: integer tiling arithmetic and small expression helpers.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "taskmap/arith/bound.h"
#include "taskmap/ir/expr.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::schedules {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
// Rounds toward -inf (b > 0): floor_div(-1, 4) is -1.
inline int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -ceil_div(-a, b);
}
inline int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// A floating-point constant 0 (the false arm of a padding select).
inline bool is_float_zero(const ir::Expr& e) {
  const auto* f = e.as<ir::FloatImmNode>();
  return f != nullptr && f->value == 0.0;
}

// The value a sum, max or min starts from: 0, -inf, +inf.
inline double reduction_identity(ir::ReduceOp op) {
  const double inf = std::numeric_limits<double>::infinity();
  return op == ir::ReduceOp::max ? -inf : op == ir::ReduceOp::min ? inf : 0.0;
}

// A term that leaves the accumulator as it is (a masked-out window position).
inline bool is_reduction_identity(ir::ReduceOp op, const ir::Expr& e) {
  const auto* imm = e.as<ir::FloatImmNode>();
  return imm != nullptr && imm->value == reduction_identity(op);
}

// The accumulator `acc` of a sum, max or min updated with term `t`. max and min propagate NaN as
// ir::max and ir::min do (a NaN term fails the comparison and is taken, a NaN accumulator is
// kept), written as selects, which the C compiler vectorizes several times better than the
// generic helper; vector values (already vectorized by hand) take the helper.
ir::Expr combine_reduction(ir::ReduceOp op, const ir::Expr& acc, const ir::Expr& t);

// `value` with every Reduce node replaced by `with`: the epilogue of a template that computes
// the task's one reduction itself.
ir::Expr replace_reductions(const ir::Expr& value, const ir::Expr& with);

// The `vectors` vectors of `lanes` partial results in register tensor `part`, folded into one
// vector and then across its lanes: the sum or maximum (ir::vec_reduce_*), as an expression.
ir::Expr fold_partials(lang::KernelBuilder& kb, const ir::Var& part, int64_t lanes, int64_t vectors,
                       ir::ReduceOp op);

// The window axes' constant values at each position of a window with these extents,
// row-major: what an unrolled window substitutes position by position.
std::vector<std::vector<ir::Expr>> window_positions(const std::vector<int64_t>& extents);

// Emits through a KernelBuilder whose loops and lets bind their variables' ranges as they open,
// so that what is emitted inside simplifies with them (the window templates drop the masks and
// index clamps a region does not need).
class RangedEmitter {
 public:
  explicit RangedEmitter(lang::KernelBuilder& kb) : kb_(kb) {}

 protected:
  ir::Expr simplified(const ir::Expr& e) const;
  void loop(const std::string& name, int64_t extent, ir::LoopHint hint,
            const std::function<void(const ir::Var&)>& body);
  void let(const std::string& name, const ir::Expr& value,
           const std::function<void(const ir::Var&)>& body);
  // The tasks of `worker` under `mapping`, each task coordinate's range bound for `body`.
  void for_mapping(const ir::TaskMapping& mapping, const ir::Expr& worker,
                   const std::function<void(const ir::Index&)>& body,
                   std::vector<std::string> names);

  lang::KernelBuilder& kb_;
  arith::BoundAnalyzer bounds_;
};

}  // namespace taskmap::schedules
