// Det: the determinant of each square matrix in the innermost two dimensions.
//
// Gaussian elimination with partial pivoting, one compute per column: step k picks the row of
// largest magnitude in column k (at or below the diagonal), swaps it into row k and negates the
// row it came from (so the determinant is unchanged), then eliminates column k below the
// diagonal. The determinant is the product of the final diagonal. Every step reads the previous
// one's matrix; the pivot search makes each step a reduction, so each matrix is computed once.
// Computes in f64.
#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops::misc {
namespace {

using ir::Expr;
using ir::ReduceOp;

// The matrix after eliminating column k of `m` (shape batch + [n, n]).
Expr elimination_step(const Expr& m, const std::vector<int64_t>& shape, int64_t k) {
  size_t batch = shape.size() - 2;
  int64_t n = shape.back();
  return ir::compute("det_step" + std::to_string(k), shape, [&](const ir::Index& i) {
    ir::Index b(i.begin(), i.begin() + static_cast<std::ptrdiff_t>(batch));
    auto at = [&](const Expr& row, const Expr& col) {
      ir::Index index = b;
      index.push_back(row);
      index.push_back(col);
      return ir::load(m, index);
    };
    Expr pivot_row = Expr(k) + ir::reduce(ReduceOp::argmax, {n - k}, [&](const ir::Index& r) {
                       Expr v = at(Expr(k) + r[0], Expr(k));
                       return ir::max(v, -v);
                     });
    Expr row = i[batch], col = i[batch + 1];
    // Row `row` after the swap: rows k and pivot_row exchanged, the one moved down negated.
    auto swapped = [&](const Expr& r, const Expr& c) {
      Expr source =
          ir::select(ir::eq(r, Expr(k)), pivot_row, ir::select(ir::eq(r, pivot_row), Expr(k), r));
      Expr v = at(source, c);
      return ir::select(ir::eq(r, pivot_row) && ir::ne(pivot_row, Expr(k)), -v, v);
    };
    Expr value = swapped(row, col);
    Expr pivot = at(pivot_row, Expr(k));
    Expr zero = ir::make_const(ir::f64, 0);
    Expr factor =
        swapped(row, Expr(k)) / ir::select(ir::eq(pivot, zero), ir::make_const(ir::f64, 1), pivot);
    Expr eliminated = value - factor * at(pivot_row, col);
    return ir::select(row > Expr(k) && ir::ne(pivot, zero), eliminated, value);
  });
}

OpDef det() {
  OpDef def{"Det"};
  def.min_opset = 11;
  def.lower = [](const OpContext& ctx) -> Outputs {
    ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, dtype.is_float()) << dtype.name() << " inputs are not supported";
    const std::vector<int64_t>& shape = ctx.shape(0);
    int64_t rank = ctx.rank(0);
    TM_OP_CHECK(ctx, rank >= 2 && shape[rank - 1] == shape[rank - 2])
        << "the input must be a batch of square matrices, not " << shape_str(shape);
    int64_t n = shape.back();
    std::vector<int64_t> out_shape(shape.begin(), shape.end() - 2);
    if (n == 0 || shape_numel(shape) == 0) {
      return {ir::compute("det", out_shape,
                          [&](const ir::Index&) { return ir::make_const(dtype, 1); })};
    }
    ir::Var x = ctx.param(0);
    Expr m = ir::compute("det_input", shape,
                         [&](const ir::Index& i) { return ir::cast(ir::f64, ir::load(x, i)); });
    for (int64_t k = 0; k + 1 < n; ++k) m = elimination_step(m, shape, k);
    return {ir::compute("det", out_shape, [&](const ir::Index& i) {
      Expr product = ir::reduce(ReduceOp::prod, {n}, [&](const ir::Index& d) {
        ir::Index index = i;
        index.push_back(d[0]);
        index.push_back(d[0]);
        return ir::load(m, index);
      });
      return ir::cast(dtype, product);
    })};
  };
  return def;
}

}  // namespace

void register_misc_linalg_ops(std::vector<OpDef>& defs) {
  defs.push_back(det());
}

}  // namespace taskmap::graph::ops::misc
