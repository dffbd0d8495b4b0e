// The tensor-core template's operands (mma_operands.h): which loads its copies can read.
#include "schedules/cuda/mma_operands.h"

#include <utility>
#include <vector>

#include "arith/linear.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/ir/functor.h"

namespace taskmap::schedules {

using namespace ir;

namespace {

// The load under `factor` = cast(f32, load(x, ...)) with x of f16 / bf16, or with `tf32` a bare
// load(x, ...) of f32; nullptr otherwise.
const LoadNode* mma_load(const Expr& factor, bool tf32) {
  const LoadNode* ld = factor.as<LoadNode>();
  if (ld == nullptr) {
    const auto* widen = factor.as<CastNode>();
    if (widen == nullptr || widen->type.dtype() != f32) return nullptr;
    ld = widen->value.as<LoadNode>();
  } else if (!tf32) {
    return nullptr;
  }
  const auto* buffer = ld != nullptr ? ld->buffer.as<VarNode>() : nullptr;
  if (buffer == nullptr || !buffer->type.is_tensor()) return nullptr;
  const DType dtype = buffer->type.dtype();
  if (ld == factor.get()) return dtype == f32 ? ld : nullptr;
  return dtype == f16 || dtype == bf16 ? ld : nullptr;
}

// Whether the load's flat element offset, with the form's coordinates bound to fresh
// variables, steps by 1 along `along` (which no other term reads) and by multiples of `chunk`
// otherwise, so that the chunk at an along-coordinate that is a multiple of `chunk` is 16 bytes
// aligned (given an aligned tensor) and contiguous.
bool chunks_along(const GemmForm& f, const LoadNode* ld, bool along_k, int64_t chunk) {
  const Var batch = var("batch", index_dtype), row = var("row", index_dtype);
  const Var col = var("col", index_dtype), k = var("k", index_dtype);
  const Var& along = along_k ? k : col;
  const std::vector<std::pair<Var, Expr>> map = gemm_bindings(f, batch, row, col, k);
  std::vector<Expr> index;
  for (const Expr& i : ld->indices) index.push_back(substitute(i, map));
  const Expr flat = ld->buffer.type().layout().offset(index);
  std::optional<arith::LinearForm> form = arith::linear_form(arith::simplify(flat));
  if (!form || form->constant % chunk != 0) return false;
  bool steps_by_one = false;
  for (const arith::LinearTerm& t : form->terms) {
    if (t.expr.same_as(along)) {
      steps_by_one = t.coeff == 1;
      continue;
    }
    for (const Var& v : free_vars(t.expr))
      if (v.same_as(along)) return false;
    if (t.coeff % chunk != 0) return false;
  }
  return steps_by_one;
}

// Whether `factor` reads only tensors of `dtype` (and reads some): staged into shared memory of
// that type, its values are exact.
bool reads_only(const Expr& factor, DType dtype) {
  bool any = false, others = false;
  post_order_visit(factor, [&](const Expr& e) {
    if (const auto* ld = e.as<LoadNode>()) {
      const bool same = ld->buffer.type().dtype() == dtype;
      any |= same;
      others |= !same;
    }
  });
  return any && !others;
}

}  // namespace

int64_t chunk_of(DType dtype) {
  return 16 / dtype.bytes();
}

std::optional<MmaOperands> mma_operands(const GemmForm& f, bool tf32) {
  MmaOperands out{mma_load(f.a, tf32), mma_load(f.b, tf32)};
  if (out.a == nullptr) return {};
  const int64_t chunk = out.chunk();
  if (f.k_size % chunk != 0 || !chunks_along(f, out.a, true, chunk)) return {};
  if (out.b != nullptr && out.dtype() == out.b->buffer.type().dtype()) {
    if (f.n_size % chunk == 0 && chunks_along(f, out.b, false, chunk)) return out;
    if (chunks_along(f, out.b, true, chunk)) {
      out.b_along_k = true;
      return out;
    }
  }
  if (!reads_only(f.b, out.dtype())) return {};
  out.b = nullptr;
  out.b_staged = true;
  return out;
}

}  // namespace taskmap::schedules
