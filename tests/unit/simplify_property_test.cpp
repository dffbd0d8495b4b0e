// Property tests of the arithmetic layer on random integer expressions: simplify keeps the value
// of an expression at every point where the variable bounds hold, reaches a fixpoint, and really
// simplifies; bound() contains every value; can_prove / can_disprove never claim something false.
//
// Expressions are i64, up to depth 5, over four variables whose ranges are random (negative,
// mixed, loop-like [0, n), or unknown to the analyzer), with + - * / % min max select, negation,
// bit operations with constants, comparisons and && || ! in conditions. Divisors are non-zero
// constants or max(e, c) with c >= 1. Products take a leaf on one side so that no value overflows.
//
// TASKMAP_SEED=<n> reruns with another seed; failures print the seed, the expression and the
// point.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "taskmap/arith/bound.h"
#include "taskmap/arith/evaluate.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"

namespace taskmap::arith {
namespace {

using ir::Expr;
using ir::Var;

constexpr int kExpressions = 100000;
constexpr int kPointsPerExpression = 5;
constexpr int kNumVars = 4;

uint64_t test_seed() {
  const char* s = std::getenv("TASKMAP_SEED");
  return s && *s ? std::strtoull(s, nullptr, 10) : 20240611;
}

int64_t node_count(const Expr& e) {
  int64_t n = 0;
  ir::post_order_visit(e, [&](const Expr&) { ++n; });
  return n;
}

struct VarRange {
  int64_t lo, hi;
  bool known;  // bound in the analyzer
};

class Generator {
 public:
  explicit Generator(uint64_t seed, ir::DType dtype = ir::i64) : rng_(seed), dtype_(dtype) {
    for (int i = 0; i < kNumVars; ++i) vars_.push_back(ir::var("v" + std::to_string(i), dtype));
  }

  // New random ranges for the variables, bound in `bounds`.
  void pick_ranges(BoundAnalyzer& bounds) {
    ranges_.clear();
    for (const Var& v : vars_) {
      VarRange r{};
      switch (uniform(0, 3)) {
        case 0:  // a loop variable
          r = {0, uniform(0, 31), true};
          break;
        case 1:  // anything small, possibly negative
          r.lo = uniform(-20, 10);
          r = {r.lo, r.lo + uniform(0, 30), true};
          break;
        case 2:  // negative
          r.hi = uniform(-20, -1);
          r = {r.hi - uniform(0, 20), r.hi, true};
          break;
        default:  // unknown to the analyzer
          r = {-30, 30, false};
          break;
      }
      if (r.known) {
        bounds.bind(v, {r.lo, r.hi});
      } else {
        bounds.unbind(v);
      }
      ranges_.push_back(r);
    }
  }

  Env pick_point() {
    Env env;
    for (int i = 0; i < kNumVars; ++i) {
      env[vars_[i]] = Value::of_int(uniform(ranges_[i].lo, ranges_[i].hi), dtype_);
    }
    return env;
  }

  Expr expr(int depth) {
    if (depth == 0 || uniform(0, 4) == 0) return leaf();
    switch (uniform(0, 10)) {
      case 0:
        return expr(depth - 1) + expr(depth - 1);
      case 1:
        return expr(depth - 1) - expr(depth - 1);
      case 2:
        return uniform(0, 1) ? expr(depth - 1) * leaf() : leaf() * expr(depth - 1);
      case 3:
        return expr(depth - 1) / divisor(depth);
      case 4:
        return expr(depth - 1) % divisor(depth);
      case 5:
        return ir::min(expr(depth - 1), expr(depth - 1));
      case 6:
        return ir::max(expr(depth - 1), expr(depth - 1));
      case 7:
        return ir::select(condition(depth - 1), expr(depth - 1), expr(depth - 1));
      case 8:
        return -expr(depth - 1);
      case 9:
        return bitwise(depth);
      default: {
        // Index-shaped: a * c + b with b often a remainder, as lowering produces.
        const int64_t c = uniform(1, 16);
        return expr(depth - 1) * constant(c) + expr(depth - 1) % constant(c);
      }
    }
  }

  Expr condition(int depth) {
    const int choice = uniform(0, 7);
    if (choice == 0 && depth > 0) return condition(depth - 1) && condition(depth - 1);
    if (choice == 1 && depth > 0) return condition(depth - 1) || condition(depth - 1);
    if (choice == 2 && depth > 0) return !condition(depth - 1);
    const Expr a = expr(std::max(depth - 1, 0)), b = expr(std::max(depth - 1, 0));
    switch (uniform(0, 3)) {
      case 0:
        return a < b;
      case 1:
        return a <= b;
      case 2:
        return ir::eq(a, b);
      default:
        return ir::ne(a, b);
    }
  }

  std::string describe_ranges() const {
    std::ostringstream os;
    for (int i = 0; i < kNumVars; ++i) {
      os << " v" << i << " in [" << ranges_[i].lo << ", " << ranges_[i].hi << "]"
         << (ranges_[i].known ? "" : " (unknown to the analyzer)");
    }
    return os.str();
  }

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

 private:
  Expr leaf() {
    if (uniform(0, 9) < 6) return vars_[uniform(0, kNumVars - 1)];
    return constant(uniform(-10, 10));
  }

  // Bit operations with constant masks and small shifts, so values stay small.
  Expr bitwise(int depth) {
    const Expr a = expr(depth - 1);
    switch (uniform(0, 4)) {
      case 0:
        return ir::binary(ir::BinaryOp::bit_and, a, constant(uniform(-8, 31)));
      case 1:
        return ir::binary(ir::BinaryOp::bit_or, a, constant(uniform(-8, 31)));
      case 2:
        return ir::binary(ir::BinaryOp::bit_xor, a, constant(uniform(-8, 31)));
      case 3:
        return ir::binary(ir::BinaryOp::shl, a, constant(uniform(0, 3)));
      default:
        return ir::binary(ir::BinaryOp::shr, a, constant(uniform(0, 5)));
    }
  }

  Expr divisor(int depth) {
    if (uniform(0, 3) == 0) return ir::max(expr(std::max(depth - 2, 0)), constant(uniform(1, 4)));
    int64_t d = uniform(1, 9);
    if (uniform(0, 4) == 0) d = -d;
    if (uniform(0, 2) == 0) d = int64_t{1} << uniform(0, 5);  // powers of two, as tiling uses
    return constant(d);
  }

  Expr constant(int64_t value) const { return ir::int_imm(value, dtype_); }

  std::mt19937_64 rng_;
  ir::DType dtype_;
  std::vector<Var> vars_;
  std::vector<VarRange> ranges_;
};

std::string describe_point(const Env& env) {
  std::ostringstream os;
  for (const auto& [v, value] : env) os << " " << v.as<ir::VarNode>()->name << "=" << value.i;
  return os.str();
}

// What a property failure prints: the expression, its simplification, the variable ranges and
// the point where the two disagree.
std::string failure_report(int n, const Expr& e, const Expr& s, const Value& expected,
                           const std::string& problem, const Generator& gen, const Env& env) {
  std::ostringstream os;
  os << "expression #" << n << ": " << e << "\n  simplified: " << s << "\n  expected " << expected.i
     << ", got " << problem << "\n  ranges:" << gen.describe_ranges()
     << "\n  point:" << describe_point(env);
  return os.str();
}

// Empty when `simplified` evaluates to `expected` at `env`; otherwise what it gave instead.
std::string mismatch(const Expr& simplified, const Env& env, const Value& expected) {
  try {
    const Value got = evaluate_scalar(simplified, env);
    return got.i == expected.i ? "" : "value " + std::to_string(got.i);
  } catch (const taskmap::UserError& err) {
    return std::string("error: ") + err.what();
  }
}

TEST(SimplifyProperty, PreservesValuesAndSimplifies) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (rerun with TASKMAP_SEED=" + std::to_string(seed) + ")");
  Generator gen(seed);
  BoundAnalyzer bounds;
  int failures = 0;
  int64_t smaller = 0, nodes_before = 0, nodes_after = 0, not_fixpoint = 0;
  for (int n = 0; n < kExpressions && failures < 5; ++n) {
    gen.pick_ranges(bounds);
    const Expr e = gen.expr(static_cast<int>(gen.uniform(1, 5)));
    const Expr s = simplify(e, &bounds);
    const int64_t before = node_count(e), after = node_count(s);
    nodes_before += before;
    nodes_after += after;
    smaller += after < before;
    if (!simplify(s, &bounds).same_as(s)) {
      if (++not_fixpoint <= 3) {
        ADD_FAILURE() << "not a fixpoint: " << s << " -> " << simplify(s, &bounds) << " (from " << e
                      << ")";
      }
    }
    const IntBound b = bounds.bound(e);
    for (int p = 0; p < kPointsPerExpression; ++p) {
      const Env env = gen.pick_point();
      const Value expected = evaluate_scalar(e, env);
      std::string problem = mismatch(s, env, expected);
      if (problem.empty() && !b.contains(expected.i)) {
        problem = "bound " + b.str() + " misses " + std::to_string(expected.i);
      }
      if (!problem.empty()) {
        ++failures;
        ADD_FAILURE() << failure_report(n, e, s, expected, problem, gen, env);
        break;
      }
    }
  }
  EXPECT_EQ(not_fixpoint, 0);
  // An identity simplifier would fail these.
  EXPECT_GT(smaller, kExpressions / 3) << "expressions that got smaller";
  EXPECT_LT(nodes_after * 10, nodes_before * 8)
      << "nodes before: " << nodes_before << ", after: " << nodes_after;
  std::cout << "smaller: " << smaller << " of " << kExpressions << ", nodes " << nodes_before
            << " -> " << nodes_after << "\n";
}

// i8 and i16 arithmetic wraps at every operation (the evaluator's and the simplifier's
// semantics), so only rules that hold under wrapping, or whose operands bounds keep in range, may
// apply to them.
TEST(SimplifyProperty, NarrowTypesWrap) {
  for (const ir::DType dtype : {ir::i8, ir::i16}) {
    const uint64_t seed = test_seed() + 2;
    SCOPED_TRACE("seed " + std::to_string(seed - 2) + ", " + dtype.name());
    Generator gen(seed, dtype);
    BoundAnalyzer bounds;
    int failures = 0;
    for (int n = 0; n < 20000 && failures < 5; ++n) {
      gen.pick_ranges(bounds);
      const Expr e = gen.expr(static_cast<int>(gen.uniform(1, 5)));
      const Expr s = simplify(e, &bounds);
      if (!simplify(s, &bounds).same_as(s)) {
        ++failures;
        ADD_FAILURE() << "not a fixpoint: " << s << " -> " << simplify(s, &bounds);
      }
      for (int p = 0; p < kPointsPerExpression; ++p) {
        const Env env = gen.pick_point();
        const Value expected = evaluate_scalar(e, env);
        std::string problem = mismatch(s, env, expected);
        if (!problem.empty()) {
          ++failures;
          ADD_FAILURE() << failure_report(n, e, s, expected, problem, gen, env);
          break;
        }
      }
    }
  }
}

TEST(SimplifyProperty, ProofsAreSound) {
  const uint64_t seed = test_seed() + 1;
  SCOPED_TRACE("seed " + std::to_string(seed - 1));
  Generator gen(seed);
  BoundAnalyzer bounds;
  int failures = 0, proven = 0, disproven = 0;
  constexpr int kConditions = 20000;
  for (int n = 0; n < kConditions && failures < 5; ++n) {
    gen.pick_ranges(bounds);
    const Expr c = gen.condition(static_cast<int>(gen.uniform(1, 3)));
    const bool yes = bounds.can_prove(c), no = bounds.can_disprove(c);
    proven += yes;
    disproven += no;
    if (!yes && !no) continue;
    for (int p = 0; p < kPointsPerExpression; ++p) {
      const Env env = gen.pick_point();
      if (evaluate_scalar(c, env).as_bool() != yes || yes == no) {
        ++failures;
        ADD_FAILURE() << "condition " << c << " claimed " << (yes ? "true" : "false")
                      << (yes && no ? " and false" : "") << "\n  ranges:" << gen.describe_ranges()
                      << "\n  point:" << describe_point(env);
        break;
      }
    }
  }
  EXPECT_GT(proven, kConditions / 20);
  EXPECT_GT(disproven, kConditions / 20);
}

}  // namespace
}  // namespace taskmap::arith
