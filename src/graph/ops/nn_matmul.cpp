// Matrix products: MatMul, Gemm, MatMulInteger, QLinearMatMul.
//
// MatMul of two 2-D f32 matrices is written exactly as schedules::matmul_task writes its compute.
#include "graph/ops/nn_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

// The NumPy matmul of inputs `a` and `b`: 1-D operands are promoted (a to a row, b to a column)
// and the promoted dim dropped from the output; batch dims broadcast.
struct MatmulShape {
  std::vector<int64_t> a, b, batch, out;
  int64_t m = 1, n = 1, k = 0;
  bool a_vector = false, b_vector = false;
};

MatmulShape matmul_shape(const OpContext& ctx, int a, int b) {
  MatmulShape s;
  s.a = ctx.shape(a);
  s.b = ctx.shape(b);
  TM_OP_CHECK(ctx, !s.a.empty() && !s.b.empty()) << "matmul of a scalar is not defined";
  s.a_vector = s.a.size() == 1;
  s.b_vector = s.b.size() == 1;
  s.k = s.a.back();
  s.m = s.a_vector ? 1 : s.a[s.a.size() - 2];
  int64_t kb = s.b_vector ? s.b[0] : s.b[s.b.size() - 2];
  s.n = s.b_vector ? 1 : s.b.back();
  TM_OP_CHECK(ctx, s.k == kb) << "the inner dims differ: " << s.k << " and " << kb;
  std::vector<int64_t> batch_a(s.a.begin(), s.a.end() - (s.a_vector ? 1 : 2));
  std::vector<int64_t> batch_b(s.b.begin(), s.b.end() - (s.b_vector ? 1 : 2));
  s.batch = broadcast_shapes(ctx, {batch_a, batch_b});
  s.out = s.batch;
  if (!s.a_vector) s.out.push_back(s.m);
  if (!s.b_vector) s.out.push_back(s.n);
  return s;
}

// The index of operand `shape` (a matmul operand) for output batch index `batch`, row `row` and
// column `col`; `vector` operands take only `col` (for a) or `row` (for b).
Index operand_index(const std::vector<int64_t>& shape, bool vector, const Index& batch,
                    const Expr& row, const Expr& col, bool is_a) {
  Index index;
  size_t own = shape.size() - (vector ? 1 : 2);
  size_t offset = batch.size() - own;
  for (size_t d = 0; d < own; ++d) index.push_back(shape[d] == 1 ? Expr(0) : batch[offset + d]);
  if (vector) {
    index.push_back(is_a ? col : row);
  } else {
    index.push_back(row);
    index.push_back(col);
  }
  return index;
}

using Product = std::function<Expr(Expr, Expr, const Index&)>;
using Finish = std::function<Expr(Expr, const Index&)>;

// out[batch..., i, j] = finish(sum_k product(a[batch..., i, k], b[batch..., k, j], {i, j}),
// {i, j}).
Expr matmul_compute(const std::string& name, const MatmulShape& s, const ir::Var& a,
                    const ir::Var& b, ir::DType acc, const Product& product, const Finish& finish) {
  return ir::compute(name, s.out, [&](const Index& o) {
    Index batch(o.begin(), o.begin() + static_cast<int64_t>(s.batch.size()));
    Expr i = s.a_vector ? Expr(0) : o[s.batch.size()];
    Expr j = s.b_vector ? Expr(0) : o.back();
    Expr sum = sum_reduce(
        {s.k},
        [&](const Index& r) {
          return product(ir::load(a, operand_index(s.a, s.a_vector, batch, i, r[0], true)),
                         ir::load(b, operand_index(s.b, s.b_vector, batch, r[0], j, false)),
                         {i, j});
        },
        acc);
    return finish(sum, {i, j});
  });
}

OpDef matmul() {
  OpDef def{"MatMul"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, ctx.dtype(1) == dtype && !dtype.is_bool())
        << "inputs of dtypes " << dtype.name() << " and " << ctx.dtype(1).name()
        << " are not supported";
    MatmulShape s = matmul_shape(ctx, 0, 1);
    ir::Var a = ctx.param(0), b = ctx.param(1);
    if (dtype == ir::f32 && s.a.size() == 2 && s.b.size() == 2 && s.k > 0) {
      // The canonical matmul compute (schedules::matmul_task).
      return {ir::compute("matmul", {s.m, s.n}, [&](const Index& ij) {
        return ir::reduce(ir::ReduceOp::sum, {s.k}, [&](const Index& r) {
          return ir::load(a, {ij[0], r[0]}) * ir::load(b, {r[0], ij[1]});
        });
      })};
    }
    const ir::DType acc = accumulate_dtype(dtype);
    return {matmul_compute(
        "matmul", s, a, b, acc,
        [&](Expr x, Expr y, const Index&) { return ir::cast(acc, x) * ir::cast(acc, y); },
        [&](Expr sum, const Index&) { return ir::cast(dtype, sum); })};
  };
  return def;
}

// Y = alpha * A' B' + beta * C, with A' = transA ? Aᵀ : A (likewise B) and C broadcast to [M, N].
OpDef gemm() {
  OpDef def{"Gemm"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, ctx.dtype(1) == dtype && !dtype.is_bool())
        << "inputs of dtypes " << dtype.name() << " and " << ctx.dtype(1).name()
        << " are not supported";
    const auto& sa = ctx.shape(0);
    const auto& sb = ctx.shape(1);
    TM_OP_CHECK(ctx, sa.size() == 2 && sb.size() == 2) << "A and B must be matrices";
    const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
    const double alpha = ctx.attr_float("alpha", 1.0), beta = ctx.attr_float("beta", 1.0);
    const int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1];
    const int64_t kb = tb ? sb[1] : sb[0], n = tb ? sb[0] : sb[1];
    TM_OP_CHECK(ctx, k == kb) << "the inner dims differ: " << k << " and " << kb;
    const bool has_c = ctx.has_input(2) && beta != 0;
    if (has_c) {
      const auto& sc = ctx.shape(2);
      TM_OP_CHECK(ctx, broadcast_shapes(ctx, {sc, {m, n}}) == std::vector<int64_t>({m, n}))
          << "C cannot be broadcast to [" << m << ", " << n << "]";
    }
    const ir::DType acc = accumulate_dtype(dtype);
    ir::Var a = ctx.param(0), b = ctx.param(1);
    return {ir::compute("gemm", {m, n}, [&](const Index& ij) {
      Expr sum = sum_reduce(
          {k},
          [&](const Index& r) {
            Expr x = ta ? ir::load(a, {r[0], ij[0]}) : ir::load(a, {ij[0], r[0]});
            Expr y = tb ? ir::load(b, {ij[1], r[0]}) : ir::load(b, {r[0], ij[1]});
            return ir::cast(acc, x) * ir::cast(acc, y);
          },
          acc);
      if (alpha != 1.0) sum = sum * ir::make_const(acc, alpha);
      if (has_c) {
        Expr c = ir::cast(acc, load_broadcast(ctx.param(2), ctx.shape(2), ij));
        sum = sum + (beta == 1.0 ? c : c * ir::make_const(acc, beta));
      }
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

// A zero point of an 8-bit operand: one value, or one per row of A (`index` = i) / per column of
// B (`index` = j).
Expr zero_point(const OpContext& ctx, int input, int64_t count, const Expr& index) {
  if (!ctx.has_input(input)) return ir::int_imm(0, ir::i32);
  return ir::cast(ir::i32, per_channel(ctx, input, count, index));
}

void check_8bit(const OpContext& ctx, std::initializer_list<int> inputs) {
  for (int i : inputs) {
    ir::DType t = ctx.dtype(i);
    TM_OP_CHECK(ctx, t == ir::u8 || t == ir::i8)
        << "input " << i << " of dtype " << t.name() << " is not supported";
  }
}

// sum (a - a_zero) * (b - b_zero) in i32, the zero points at inputs `az` and `bz`.
Product integer_product(const OpContext& ctx, const MatmulShape& s, int az, int bz) {
  return [&ctx, &s, az, bz](Expr x, Expr y, const Index& ij) {
    return (ir::cast(ir::i32, x) - zero_point(ctx, az, s.m, ij[0])) *
           (ir::cast(ir::i32, y) - zero_point(ctx, bz, s.n, ij[1]));
  };
}

OpDef matmul_integer() {
  OpDef def{"MatMulInteger"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_8bit(ctx, {0, 1});
    MatmulShape s = matmul_shape(ctx, 0, 1);
    return {matmul_compute("matmul_integer", s, ctx.param(0), ctx.param(1), ir::i32,
                           integer_product(ctx, s, 2, 3),
                           [](Expr sum, const Index&) { return sum; })};
  };
  return def;
}

// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
OpDef qlinear_matmul() {
  OpDef def{"QLinearMatMul"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    check_8bit(ctx, {0, 3});
    MatmulShape s = matmul_shape(ctx, 0, 3);
    const ir::DType out = ctx.dtype(7);
    return {matmul_compute("qlinear_matmul", s, ctx.param(0), ctx.param(3), ir::i32,
                           integer_product(ctx, s, 2, 5), [&](Expr sum, const Index& ij) {
                             Expr scale = per_channel(ctx, 1, s.m, ij[0]) *
                                          per_channel(ctx, 4, s.n, ij[1]) /
                                          per_channel(ctx, 6, s.n, ij[1]);
                             return requantize(sum, scale, per_channel(ctx, 7, s.n, ij[1]), out);
                           })};
  };
  return def;
}

}  // namespace

void register_matmul_ops(std::vector<OpDef>& defs) {
  defs.push_back(matmul());
  defs.push_back(gemm());
  defs.push_back(matmul_integer());
  defs.push_back(qlinear_matmul());
}

}  // namespace taskmap::graph::ops
