// Unique: the distinct elements (or slices along an axis) of a tensor, with where each first
// occurs, which one each input slice is, and how often each occurs. The output length depends on
// the data, so it runs on the host.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "graph/ops/misc_common.h"

namespace taskmap::graph::ops::misc {
namespace {

// The input seen as `count` slices of `inner` elements each, slice s made of the elements at
// outer * count * inner + s * inner + j for outer in [0, outer) and j in [0, inner).
struct Slices {
  int64_t outer = 1, count = 0, inner = 1;
  int64_t element(int64_t slice, int64_t k) const {  // k-th element of slice, row-major
    int64_t o = k / inner, j = k % inner;
    return (o * count + slice) * inner + j;
  }
  int64_t size() const { return outer * inner; }
};

struct UniqueResult {
  Slices slices;
  std::vector<int64_t> first;    // per unique slice: the input slice it comes from
  std::vector<int64_t> inverse;  // per input slice: its unique slice
  std::vector<int64_t> counts;   // per unique slice
};

// -1, 0, 1 as slice a is lexicographically less than, equal to, or greater than slice b.
int compare_slices(const NDArray& x, const Slices& s, int64_t a, int64_t b) {
  bool is_float = x.dtype().is_float();
  for (int64_t k = 0; k < s.size(); ++k) {
    int64_t ea = s.element(a, k), eb = s.element(b, k);
    if (is_float) {
      double va = x.get_double(ea), vb = x.get_double(eb);
      if (va != vb) return va < vb ? -1 : 1;
    } else {
      int64_t va = x.get_int(ea), vb = x.get_int(eb);
      if (va != vb) return va < vb ? -1 : 1;
    }
  }
  return 0;
}

UniqueResult find_unique(const OpContext& ctx) {
  const NDArray& x = ctx.value(0);
  TM_OP_CHECK(ctx, x.dtype().is_float() || x.dtype().is_int() || x.dtype().is_bool())
      << x.dtype().name() << " inputs are not supported";
  UniqueResult result;
  Slices& s = result.slices;
  const std::vector<int64_t>& shape = x.shape();
  if (ctx.has_attr("axis")) {
    TM_OP_CHECK(ctx, x.rank() >= 1) << "axis needs an input of rank 1 or more";
    int64_t axis = normalize_axis(ctx, ctx.attr_int("axis"), x.rank());
    s.outer = shape_numel({shape.begin(), shape.begin() + axis});
    s.count = shape[axis];
    s.inner = shape_numel({shape.begin() + axis + 1, shape.end()});
  } else {
    s.count = x.numel();
  }
  // Input slices in order, stable-sorted; runs of equal slices are the unique ones.
  std::vector<int64_t> order(s.count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return compare_slices(x, s, a, b) < 0; });
  std::vector<int64_t> group(s.count);  // per input slice: its run in sorted order
  std::vector<int64_t> run_first, run_count;
  for (int64_t k = 0; k < s.count; ++k) {
    if (k == 0 || compare_slices(x, s, order[k - 1], order[k]) != 0) {
      run_first.push_back(order[k]);  // stable: the first occurrence leads its run
      run_count.push_back(0);
    }
    group[order[k]] = static_cast<int64_t>(run_first.size()) - 1;
    ++run_count.back();
  }
  // Unique slices in output order: sorted runs, or by first occurrence.
  int64_t n = static_cast<int64_t>(run_first.size());
  std::vector<int64_t> runs(n);
  std::iota(runs.begin(), runs.end(), 0);
  if (ctx.attr_int("sorted", 1) == 0) {
    std::sort(runs.begin(), runs.end(),
              [&](int64_t a, int64_t b) { return run_first[a] < run_first[b]; });
  }
  std::vector<int64_t> position(n);
  for (int64_t u = 0; u < n; ++u) {
    position[runs[u]] = u;
    result.first.push_back(run_first[runs[u]]);
    result.counts.push_back(run_count[runs[u]]);
  }
  for (int64_t k = 0; k < s.count; ++k) result.inverse.push_back(position[group[k]]);
  return result;
}

std::vector<int64_t> unique_shape(const OpContext& ctx, const UniqueResult& r) {
  int64_t n = static_cast<int64_t>(r.first.size());
  if (!ctx.has_attr("axis")) return {n};
  std::vector<int64_t> shape = ctx.shape(0);
  shape[normalize_axis(ctx, ctx.attr_int("axis"), ctx.rank(0))] = n;
  return shape;
}

NDArray int_vector(const std::vector<int64_t>& values) {
  NDArray out(ir::i64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), out.data<int64_t>());
  return out;
}

OpDef unique() {
  OpDef def{"Unique"};
  def.min_opset = 11;
  def.infer = [](const OpContext& ctx) -> std::vector<OutputType> {
    UniqueResult r = find_unique(ctx);
    int64_t n = static_cast<int64_t>(r.first.size());
    return {{ctx.dtype(0), unique_shape(ctx, r)},
            {ir::i64, {n}},
            {ir::i64, {r.slices.count}},
            {ir::i64, {n}}};
  };
  def.evaluate = [](const OpContext& ctx) -> std::vector<NDArray> {
    UniqueResult r = find_unique(ctx);
    const NDArray& x = ctx.value(0);
    const Slices& s = r.slices;
    NDArray y(x.dtype(), unique_shape(ctx, r));
    Slices out = s;
    out.count = static_cast<int64_t>(r.first.size());
    size_t bytes = static_cast<size_t>(x.dtype().bytes());
    const auto* src = static_cast<const std::byte*>(x.raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    for (int64_t u = 0; u < out.count; ++u) {
      for (int64_t k = 0; k < s.size(); ++k) {
        std::memcpy(dst + out.element(u, k) * bytes, src + s.element(r.first[u], k) * bytes, bytes);
      }
    }
    return {y, int_vector(r.first), int_vector(r.inverse), int_vector(r.counts)};
  };
  return def;
}

}  // namespace

void register_misc_unique_ops(std::vector<OpDef>& defs) {
  defs.push_back(unique());
}

}  // namespace taskmap::graph::ops::misc
