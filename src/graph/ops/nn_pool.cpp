// Pooling: AveragePool, MaxPool (with Indices), GlobalAveragePool, GlobalMaxPool, MaxUnpool.
//
// One compute per output with a reduction over the window; positions in the padding are skipped
// by bounds checks, never materialized.
#include <numeric>

#include "graph/ops/nn_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

std::vector<int64_t> spatial(const std::vector<int64_t>& shape) {
  return {shape.begin() + 2, shape.end()};
}

struct Pool {
  std::vector<Window> windows;
  std::vector<int64_t> kernel;
  std::vector<int64_t> out_shape;  // [N, C, out...], or [N, out..., C] channels last
  bool channels_last = false;
  // Output index o's position along spatial dim d.
  Expr at(const Index& o, size_t d) const { return o[(channels_last ? 1 : 2) + d]; }
};

// The geometry of a pooling over x [N, C, spatial...] or, channels last (NhwcMaxPool,
// NhwcAveragePool: made by the layout pass), x [N, spatial..., C].
Pool pool_geometry(const OpContext& ctx, bool channels_last = false) {
  const auto& x = ctx.shape(0);
  TM_OP_CHECK(ctx, x.size() >= 3) << "the input must have rank 3 or more, got " << x.size();
  Pool p;
  p.channels_last = channels_last;
  p.kernel = ctx.attr_ints("kernel_shape");
  std::vector<int64_t> in =
      channels_last ? std::vector<int64_t>(x.begin() + 1, x.end() - 1) : spatial(x);
  p.windows = sliding_windows(ctx, in, p.kernel, ctx.attr_int("ceil_mode", 0) != 0);
  p.out_shape = {x[0]};
  if (!channels_last) p.out_shape.push_back(x[1]);
  for (const Window& w : p.windows) p.out_shape.push_back(w.out);
  if (channels_last) p.out_shape.push_back(x.back());
  return p;
}

// x at the positions of window offset r, and whether each position needs to be inside [0, in).
Index window_index(const Pool& p, const Index& o, const Index& r, std::vector<Expr>* inside) {
  Index xi = {o[0]};
  if (!p.channels_last) xi.push_back(o[1]);
  for (size_t d = 0; d < p.windows.size(); ++d)
    xi.push_back(p.windows[d].read_position(p.at(o, d), r[d], inside));
  if (p.channels_last) xi.push_back(o.back());
  return xi;
}

OpDef average_pool(bool channels_last) {
  OpDef def = channels_last ? OpDef{"NhwcAveragePool", kTaskmapDomain} : OpDef{"AveragePool"};
  def.lower = [channels_last](const OpContext& ctx) -> Outputs {
    check_float(ctx, 0);
    Pool p = pool_geometry(ctx, channels_last);
    const bool include_pad = ctx.attr_int("count_include_pad", 0) != 0;
    const ir::DType dtype = ctx.dtype(0), acc = accumulate_dtype(dtype);
    ir::Var x = ctx.param(0);
    return {ir::compute("average_pool", p.out_shape, [&](const Index& o) {
      Expr sum = ir::reduce(
          ir::ReduceOp::sum, p.kernel,
          [&](const Index& r) {
            std::vector<Expr> inside;
            Index xi = window_index(p, o, r, &inside);
            Expr v = ir::cast(acc, ir::load(x, xi));
            return inside.empty() ? v : ir::select(all_of(inside), v, ir::make_const(acc, 0));
          },
          acc);
      // The divisor: window positions inside the input (or inside the padded input).
      Expr count = ir::int_imm(1);
      for (size_t d = 0; d < p.windows.size(); ++d) {
        const Window& w = p.windows[d];
        int64_t lo = include_pad ? -w.pad_begin : 0, hi = include_pad ? w.in + w.pad_end : w.in;
        bool check =
            w.out > 0 && (w.pad_begin + lo > 0 ||
                          (w.out - 1) * w.stride - w.pad_begin + (w.kernel - 1) * w.dilation >= hi);
        if (!check) {
          count = count * w.kernel;
          continue;
        }
        count = count * ir::reduce(ir::ReduceOp::sum, {w.kernel}, [&](const Index& k) {
                  Expr pos = w.position(p.at(o, d), k[0]);
                  return ir::select(pos >= lo && pos < hi, ir::int_imm(1), ir::int_imm(0));
                });
      }
      return ir::cast(dtype, sum / ir::cast(acc, count));
    })};
  };
  return def;
}

OpDef max_pool(bool channels_last) {
  OpDef def = channels_last ? OpDef{"NhwcMaxPool", kTaskmapDomain} : OpDef{"MaxPool"};
  def.lower = [channels_last](const OpContext& ctx) -> Outputs {
    const ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, dtype.is_float() || dtype == ir::u8 || dtype == ir::i8)
        << "dtype " << dtype.name() << " is not supported";
    TM_OP_CHECK(ctx, !channels_last || !ctx.has_output(1))
        << "the Indices output is not supported channels last";
    Pool p = pool_geometry(ctx, channels_last);
    ir::Var x = ctx.param(0);
    auto masked = [&](const Index& o, const Index& r) {
      std::vector<Expr> inside;
      Index xi = window_index(p, o, r, &inside);
      Expr v = ir::load(x, xi);
      return inside.empty() ? v : ir::select(all_of(inside), v, lowest_value(dtype));
    };
    if (!ctx.has_output(1)) {
      return {ir::compute("max_pool", p.out_shape, [&](const Index& o) {
        return ir::cast(dtype, ir::reduce(ir::ReduceOp::max, p.kernel,
                                          [&](const Index& r) { return masked(o, r); }));
      })};
    }
    // With Indices: the first maximum's window offset, then its value and flat input position.
    const int64_t storage_order = ctx.attr_int("storage_order", 0);
    TM_OP_CHECK(ctx, storage_order == 0 || storage_order == 1)
        << "storage_order " << storage_order << " is not supported";
    Expr best = ir::compute("max_pool_argmax", p.out_shape, [&](const Index& o) {
      return ir::reduce(ir::ReduceOp::argmax, p.kernel,
                        [&](const Index& r) { return masked(o, r); });
    });
    // The input position of the best window offset (clamped: a window of only lowest values
    // reports its first position).
    auto position = [&](const Index& o) {
      Expr offset = ir::load(best, o);
      Index pos;
      int64_t after = 1;
      for (size_t d = p.windows.size(); d-- > 0;) {
        const Window& w = p.windows[d];
        Expr k = after == 1 ? offset : offset / after;
        if (d > 0) k = k % w.kernel;
        after *= w.kernel;
        pos.insert(pos.begin(), clamp_index(w.position(o[2 + d], k), w.in));
      }
      return pos;
    };
    const auto& in = ctx.shape(0);
    Expr y = ir::compute("max_pool", p.out_shape, [&](const Index& o) {
      Index xi = {o[0], o[1]};
      for (const Expr& e : position(o)) xi.push_back(e);
      return ir::load(x, xi);
    });
    Expr indices = ir::compute("max_pool_indices", p.out_shape, [&](const Index& o) {
      Index pos = position(o);
      const size_t rank = pos.size();
      int64_t plane = std::accumulate(in.begin() + 2, in.end(), int64_t{1}, std::multiplies<>());
      Expr flat = (o[0] * in[1] + o[1]) * plane;
      Expr inner = ir::int_imm(0);
      if (storage_order == 0) {
        for (size_t d = 0; d < rank; ++d) inner = inner * in[2 + d] + pos[d];
      } else {
        for (size_t d = rank; d-- > 0;) inner = inner * in[2 + d] + pos[d];
      }
      return flat + inner;
    });
    return {y, indices};
  };
  return def;
}

OpDef global_pool(const std::string& type, ir::ReduceOp op) {
  OpDef def{type};
  def.lower = [type, op](const OpContext& ctx) -> Outputs {
    const ir::DType dtype = ctx.dtype(0);
    if (op == ir::ReduceOp::mean) check_float(ctx, 0);
    const auto& x = ctx.shape(0);
    TM_OP_CHECK(ctx, x.size() >= 2) << "the input must have rank 2 or more";
    std::vector<int64_t> out = {x[0], x[1]};
    out.resize(x.size(), 1);
    ir::Var xp = ctx.param(0);
    return {ir::compute(type == "GlobalMaxPool" ? "global_max_pool" : "global_average_pool", out,
                        [&](const Index& o) {
                          return ir::cast(dtype, ir::reduce(op, spatial(x), [&](const Index& r) {
                                            Index xi = {o[0], o[1]};
                                            xi.insert(xi.end(), r.begin(), r.end());
                                            return ir::load(xp, xi);
                                          }));
                        })};
  };
  return def;
}

// MaxUnpool: y[p] = x[q] for the q whose window covers p and whose index I[q] is p's flat
// position in the unpooled shape ((in - 1) * stride + kernel - pads); every other element is 0.
// A larger output_shape appends zeros at the end of each spatial dim. Indices are those of the
// matching MaxPool, so only the windows covering p are searched.
OpDef max_unpool() {
  OpDef def{"MaxUnpool"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const auto& x = ctx.shape(0);
    TM_OP_CHECK(ctx, x.size() >= 3 && ctx.shape(1) == x)
        << "X must have rank 3 or more and I the same shape";
    const size_t rank = x.size() - 2;
    std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
    std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(rank, 1));
    std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * rank, 0));
    TM_OP_CHECK(ctx, kernel.size() == rank && strides.size() == rank && pads.size() == 2 * rank)
        << "kernel_shape, strides and pads must match the " << rank << " spatial dims";
    std::vector<int64_t> unpooled = {x[0], x[1]};
    for (size_t d = 0; d < rank; ++d)
      unpooled.push_back((x[2 + d] - 1) * strides[d] + kernel[d] - pads[d] - pads[d + rank]);
    std::vector<int64_t> out = unpooled;
    if (ctx.has_input(2)) {
      out = ctx.value_ints(2);
      TM_OP_CHECK(ctx, out.size() == x.size() && out[0] == x[0] && out[1] == x[1])
          << "output_shape must have " << x.size() << " values starting with N and C";
      for (size_t d = 2; d < out.size(); ++d)
        TM_OP_CHECK(ctx, out[d] >= unpooled[d])
            << "output_shape is smaller than the unpooled shape, which is not supported";
    }
    const ir::DType dtype = ctx.dtype(0);
    ir::Var xp = ctx.param(0), ip = ctx.param(1);
    return {ir::compute("max_unpool", out, [&](const Index& o) {
      Expr flat = o[0] * out[1] + o[1];
      for (size_t d = 0; d < rank; ++d) flat = flat * unpooled[2 + d] + o[2 + d];
      auto source = [&](const Index& r, Index* qi) {
        std::vector<Expr> ok;
        for (size_t d = 0; d < rank; ++d)
          if (out[2 + d] > unpooled[2 + d]) ok.push_back(o[2 + d] < unpooled[2 + d]);
        for (size_t d = 0; d < rank; ++d) {
          Expr num = o[2 + d] + pads[d] - r[d];
          ok.push_back(num >= 0 && ir::eq(num % strides[d], 0) && num < x[2 + d] * strides[d]);
          qi->push_back(clamp_index(num / strides[d], x[2 + d]));
        }
        Expr match = all_of(ok);
        return match && ir::eq(ir::load(ip, *qi), ir::cast(ctx.dtype(1), flat));
      };
      Expr hits = ir::reduce(ir::ReduceOp::sum, kernel, [&](const Index& r) {
        Index qi = {o[0], o[1]};
        return ir::select(source(r, &qi), ir::int_imm(1), ir::int_imm(0));
      });
      Expr best = ir::reduce(ir::ReduceOp::max, kernel, [&](const Index& r) {
        Index qi = {o[0], o[1]};
        Expr hit = source(r, &qi);
        return ir::select(hit, ir::load(xp, qi), lowest_value(dtype));
      });
      return ir::select(hits > 0, ir::cast(dtype, best), ir::make_const(dtype, 0));
    })};
  };
  return def;
}

}  // namespace

void register_pool_ops(std::vector<OpDef>& defs) {
  for (bool channels_last : {false, true}) {
    defs.push_back(average_pool(channels_last));
    defs.push_back(max_pool(channels_last));
  }
  defs.push_back(global_pool("GlobalAveragePool", ir::ReduceOp::mean));
  defs.push_back(global_pool("GlobalMaxPool", ir::ReduceOp::max));
  defs.push_back(max_unpool());
}

}  // namespace taskmap::graph::ops
