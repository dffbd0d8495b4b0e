#pragma once
// Bound analysis of integer expressions: an interval [min, max] for every integer expression,
// given intervals for its variables, and the proofs built on it (can_prove, is_nonneg) that guard
// the simplifier's rules.
//
// Requires: the bound given to a variable holds wherever the analyzed expressions are evaluated.
// Guarantees: bound(e) contains every value e can take at such points, assuming, as the C++ that
// taskmap generates may, that 64-bit signed arithmetic does not overflow; for narrower integer
// types a result that could leave the type's range (and so wrap) gets the whole range of the type.
// Sums are analyzed as linear combinations of their distinct terms, so `i * 16 + j - i * 16` is
// bounded like `j`. Integer division by zero is undefined in C, so divisors are assumed non-zero.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "taskmap/ir/expr.h"

namespace taskmap::arith {

// A closed interval of integers. min == kNegInf or max == kPosInf mean unbounded on that side;
// arithmetic on bounds saturates to these sentinels instead of overflowing.
struct IntBound {
  static constexpr int64_t kNegInf = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kPosInf = std::numeric_limits<int64_t>::max();

  int64_t min = kNegInf;
  int64_t max = kPosInf;

  static IntBound everything() { return {}; }
  static IntBound point(int64_t value) { return {value, value}; }
  // All values of an integer or bool dtype.
  static IntBound of_dtype(ir::DType dtype);

  bool is_point() const { return min == max && min != kNegInf && min != kPosInf; }
  bool is_everything() const { return min == kNegInf && max == kPosInf; }
  bool contains(int64_t value) const { return min <= value && value <= max; }
  bool operator==(const IntBound&) const = default;
  std::string str() const;  // "[0, 15]", "[-inf, 3]"
};

// The smallest interval holding both.
IntBound union_of(const IntBound& a, const IntBound& b);

// Bounds remembered between queries to one BoundAnalyzer, for a caller that asks about many
// overlapping expressions while the bindings stay the same (the simplifier asks at every node).
// Keeps the nodes it has seen alive. Used by one thread at a time; clear it, or drop it, when the
// analyzer's bindings change.
class BoundMemo {
 public:
  void clear() { entries_.clear(); }

 private:
  friend class BoundAnalyzer;
  std::unordered_map<const ir::ExprNode*, std::pair<ir::Expr, IntBound>> entries_;
};

// Variable intervals and the analyses over them. Copyable; a variable without a binding ranges
// over its whole dtype. Queries are const and keep no state between calls unless given a memo.
class BoundAnalyzer {
 public:
  // `v` lies in `b` from now on (replacing an earlier binding).
  void bind(const ir::Var& v, IntBound b);
  // `v` is a loop variable over [0, extent): binds [0, extent - 1]. Requires extent >= 1.
  void bind_range(const ir::Var& v, int64_t extent);
  void unbind(const ir::Var& v);
  // The interval bound to `v`, if any.
  std::optional<IntBound> binding(const ir::Var& v) const;

  // An interval holding every value of integer or bool expression `e`; the whole range of the
  // dtype where nothing better is known (loads, calls, floats cast to integers). Comparisons and
  // logical operations give [0, 1], or a point when can_prove decides them.
  IntBound bound(const ir::Expr& e, BoundMemo* memo = nullptr) const;

  // True only if bool expression `cond` holds at every point (false means "not proven").
  // Comparisons of integers are decided on the bound of their difference, so `i * 16 + j <
  // i * 16 + 16` is proven from j <= 15; && and || and ! combine proofs.
  bool can_prove(const ir::Expr& cond, BoundMemo* memo = nullptr) const;
  // True only if `cond` is false at every point.
  bool can_disprove(const ir::Expr& cond, BoundMemo* memo = nullptr) const;
  bool is_nonneg(const ir::Expr& e, BoundMemo* memo = nullptr) const {
    return bound(e, memo).min >= 0;
  }

 private:
  struct Run;  // one query, with its memo

  std::unordered_map<ir::Expr, IntBound, ir::VarHash, ir::VarEqual> vars_;
};

}  // namespace taskmap::arith
