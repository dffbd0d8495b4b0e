// Constant-folding index arithmetic (see index_arith.h).
#include "ir/mapping/index_arith.h"

namespace taskmap::ir {

Expr fold_add(const Expr& a, const Expr& b) {
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb) return int_imm(*ca + *cb, a.dtype());
  if (ca && *ca == 0) return b;
  if (cb && *cb == 0) return a;
  return a + b;
}

Expr fold_mul(const Expr& a, const Expr& b) {
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb) return int_imm(*ca * *cb, a.dtype());
  if ((ca && *ca == 0) || (cb && *cb == 0)) return int_imm(0, a.dtype());
  if (ca && *ca == 1) return b;
  if (cb && *cb == 1) return a;
  return a * b;
}

Expr fold_div(const Expr& a, const Expr& b) {
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb && *cb != 0) return int_imm(*ca / *cb, a.dtype());
  if (ca && *ca == 0) return a;
  if (cb && *cb == 1) return a;
  return a / b;
}

Expr fold_mod(const Expr& a, const Expr& b) {
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb && *cb != 0) return int_imm(*ca % *cb, a.dtype());
  if (ca && *ca == 0) return a;
  if (cb && *cb == 1) return int_imm(0, a.dtype());
  return a % b;
}

std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

}  // namespace taskmap::ir
