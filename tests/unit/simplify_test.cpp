// The simplifier on chosen examples: the index arithmetic that lowering of tiled loops produces,
// identities and canonical forms, constant folding for every dtype (and what must not be
// folded), statements, and the evaluator behind constant folding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "taskmap/arith/evaluate.h"
#include "taskmap/arith/simplify.h"
#include "taskmap/error.h"
#include "taskmap/ir/equality.h"
#include "taskmap/ir/mapping.h"
#include "taskmap/ir/printer.h"

namespace taskmap::arith {
namespace {

using namespace taskmap::ir;  // NOLINT: the tests read as IR

class SimplifyTest : public ::testing::Test {
 protected:
  SimplifyTest() {
    bounds.bind_range(i, 8);
    bounds.bind_range(j, 16);
    bounds.bind_range(w, 32);
    bounds.bind_range(r, 2);
    bounds.bind(n, {-8, -1});
    bounds.bind(m, {1, 3});
  }

  ::testing::AssertionResult simplifies_to(const Expr& input, const Expr& expected) {
    const Expr got = simplify(input, &bounds);
    if (struct_equal(got, expected)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << to_string(input) << " simplified to " << to_string(got)
                                         << ", expected " << to_string(expected);
  }

  ::testing::AssertionResult unchanged(const Expr& input) {
    const Expr got = simplify(input, &bounds);
    if (got.same_as(input)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << to_string(input) << " changed to " << to_string(got);
  }

  // i in [0, 7], j in [0, 15], w in [0, 31], r in [0, 1], n in [-8, -1], m in [1, 3];
  // x, y, k unknown.
  Var i = var("i"), j = var("j"), w = var("w"), r = var("r"), n = var("n"), m = var("m");
  Var x = var("x"), y = var("y"), k = var("k");
  Var f = var("f", f32), g = var("g", f32);
  Var p = var("p", boolean), q = var("q", boolean);
  BoundAnalyzer bounds;
};

TEST_F(SimplifyTest, TiledIndices) {
  EXPECT_TRUE(simplifies_to((i * 16 + j) / 16, i));
  EXPECT_TRUE(simplifies_to((i * 16 + j) % 16, j));
  EXPECT_TRUE(simplifies_to((w / 8) * 8 + w % 8, w));
  EXPECT_TRUE(simplifies_to(((w / 8) * 2 + r) / 2, w / 8));
  EXPECT_TRUE(simplifies_to(((w % 8) * 2 + r) % 2, r));
  EXPECT_TRUE(simplifies_to(j / 16, 0));
  EXPECT_TRUE(simplifies_to(j % 16, j));
  EXPECT_TRUE(simplifies_to(i < 8, bool_imm(true)));
  EXPECT_TRUE(simplifies_to(i * 16 + j < 128, bool_imm(true)));
  EXPECT_TRUE(simplifies_to(i * 16 + j >= 128, bool_imm(false)));
}

TEST_F(SimplifyTest, TermsCombineAnywhereInASum) {
  EXPECT_TRUE(simplifies_to((w / 8) * 8 + i * 64 + w % 8, i * 64 + w));
  EXPECT_TRUE(simplifies_to((w / 8) * 16 + (w % 8) * 2, w * 2));
  // Three digits of a mixed-radix decomposition.
  EXPECT_TRUE(simplifies_to((w / 16) * 16 + ((w / 4) % 4) * 4 + w % 4, w));
  EXPECT_TRUE(simplifies_to(((w % 16) / 4) * 4 + w % 4, w % 16));
  EXPECT_TRUE(simplifies_to(w - (w / 8) * 8, w % 8));
  // The same identities hold for any sign in C, so they need no bounds.
  EXPECT_TRUE(simplifies_to((x / 8) * 8 + x % 8, x));
  EXPECT_TRUE(simplifies_to((x / 3) * 3 + y + x % 3, x + y));
}

TEST_F(SimplifyTest, DivisionNeedsNonNegativeOperands) {
  EXPECT_TRUE(simplifies_to((x * 4) / 2, x * 2));  // exact: any sign
  EXPECT_TRUE(simplifies_to((x * 2) / 4, x / 2));
  EXPECT_TRUE(simplifies_to((x * 16 + y * 32) / 16, y * 2 + x));
  EXPECT_TRUE(simplifies_to((x * 6) % 3, 0));
  // -1 / 16 is 0 in C, not -1: without bounds nothing may be split.
  EXPECT_TRUE(unchanged((x * 16 + y) / 16));
  EXPECT_TRUE(unchanged((x * 16 + y) % 16));
  EXPECT_TRUE(unchanged((n * 16 + j) / 16));
  // With m in [1, 3], 16m + n >= 0 but n spans [-8, -1]: its quotient by 4 is not one value,
  // so only the common factor goes (exactly, for any sign).
  EXPECT_TRUE(simplifies_to((m * 64 + n * 4) / 16, (m * 16 + n) / 4));
  EXPECT_TRUE(unchanged((m * 16 + n) / 4));
  // A part below a common factor of the divisor drops out.
  EXPECT_TRUE(simplifies_to((w * 2 + r) / 8, w / 4));
  EXPECT_TRUE(simplifies_to((w * 2 + r) % 8, w % 4 * 2 + r));
  EXPECT_TRUE(unchanged((x * 2 + r) / 8));
  // 2n spans [-16, -2]: shifted by 16 it lies in [0, 15], so the quotient is m - 1.
  EXPECT_TRUE(simplifies_to((m * 16 + n * 2) / 16, m - 1));
  EXPECT_TRUE(simplifies_to((m * 16 + n * 2) % 16, n * 2 + 16));
  EXPECT_TRUE(simplifies_to((i * 16 + n + 8) / 16, i));
  // A constant part goes with the quotient or the remainder as needed.
  EXPECT_TRUE(simplifies_to((i * 16 + j + 16) / 16, i + 1));
  EXPECT_TRUE(simplifies_to((i * 16 + 15 - j) / 16, i));
  EXPECT_TRUE(simplifies_to((i * 16 + j + 3 + r) / 16, i + (j + r + 3) / 16));
  EXPECT_TRUE(unchanged((i * 16 + j - 1) / 16));  // -1 / 16 is 0
}

TEST_F(SimplifyTest, Identities) {
  EXPECT_TRUE(simplifies_to(x * 1, x));
  EXPECT_TRUE(simplifies_to(x + 0, x));
  EXPECT_TRUE(simplifies_to(Expr(0) + x, x));
  EXPECT_TRUE(simplifies_to(x / 1, x));
  EXPECT_TRUE(simplifies_to(x % 1, 0));
  EXPECT_TRUE(simplifies_to(x * 0, 0));
  EXPECT_TRUE(simplifies_to(x - x, 0));
  EXPECT_TRUE(simplifies_to((x + 3) - 3, x));
  EXPECT_TRUE(simplifies_to((x + 2) + 3, x + 5));
  EXPECT_TRUE(simplifies_to(min(x, x), x));
  EXPECT_TRUE(simplifies_to(max(x, x), x));
  EXPECT_TRUE(simplifies_to(select(bool_imm(true), x, y), x));
  EXPECT_TRUE(simplifies_to(select(bool_imm(false), x, y), y));
  EXPECT_TRUE(simplifies_to(select(p, x, x), x));
  EXPECT_TRUE(simplifies_to(-(-x), x));
  EXPECT_TRUE(simplifies_to(x * 3 - x * 2, x));
}

TEST_F(SimplifyTest, CanonicalOrder) {
  EXPECT_TRUE(simplifies_to(Expr(3) + x, x + 3));
  EXPECT_TRUE(simplifies_to(Expr(3) * x, x * 3));
  EXPECT_TRUE(simplifies_to(min(Expr(3), x), min(x, 3)));
  // Flattened, larger coefficients first, constant last.
  EXPECT_TRUE(simplifies_to((i * 16 + j) * 4 + k, i * 64 + j * 4 + k));
  EXPECT_TRUE(simplifies_to(j + i * 16 + 1, i * 16 + j + 1));
  EXPECT_TRUE(simplifies_to((x - 1) * 2, x * 2 - 2));
  EXPECT_TRUE(simplifies_to(-(x - y), y - x));
  EXPECT_TRUE(simplifies_to(Expr(8) - x, 8 - x));
  EXPECT_TRUE(unchanged(x * 64 + y * 4 + k));
}

TEST_F(SimplifyTest, MinMax) {
  EXPECT_TRUE(simplifies_to(min(i, 8), i));
  EXPECT_TRUE(simplifies_to(max(i, 8), 8));
  EXPECT_TRUE(simplifies_to(min(x + 1, x + 3), x + 1));
  EXPECT_TRUE(simplifies_to(min(min(x, 4), 2), min(x, 2)));
  EXPECT_TRUE(simplifies_to(max(x, min(x, y)), x));
  EXPECT_TRUE(simplifies_to(min(x * 4, y * 4), min(x, y) * 4));
  EXPECT_TRUE(unchanged(min(x, y)));
}

TEST_F(SimplifyTest, Comparisons) {
  EXPECT_TRUE(simplifies_to(x + 3 < y + 5, x < y + 2));
  EXPECT_TRUE(simplifies_to(x * 4 < 32, x < 8));
  EXPECT_TRUE(simplifies_to(x * 4 <= 30, x <= 7));
  EXPECT_TRUE(simplifies_to(eq(x * 2, 3), bool_imm(false)));
  EXPECT_TRUE(simplifies_to(x < x, bool_imm(false)));
  EXPECT_TRUE(simplifies_to(!(x < y), y <= x));
  EXPECT_TRUE(simplifies_to(x - y < 0, x < y));
  EXPECT_TRUE(unchanged(x < y));
  EXPECT_TRUE(unchanged(Expr(2) < x));
  // NaN is not ordered: these stay.
  EXPECT_TRUE(unchanged(!(f < g)));
  EXPECT_TRUE(unchanged(f <= f));
}

TEST_F(SimplifyTest, Logic) {
  EXPECT_TRUE(simplifies_to((i < 8) && (x < 3), x < 3));
  EXPECT_TRUE(simplifies_to(p && bool_imm(false), bool_imm(false)));
  EXPECT_TRUE(simplifies_to(p || !p, bool_imm(true)));
  EXPECT_TRUE(simplifies_to((x < 3) && (x < 5), x < 3));
  EXPECT_TRUE(simplifies_to(!!p, p));
  EXPECT_TRUE(simplifies_to(select(!p, x, y), select(p, y, x)));
  EXPECT_TRUE(simplifies_to(select(x < y, x, y), min(x, y)));
  // The right operand of && may rely on the left one: never swapped.
  EXPECT_TRUE(unchanged(p && q));
  EXPECT_TRUE(unchanged(ne(x, 0) && (y / x > 2)));
}

TEST_F(SimplifyTest, ConstantFolding) {
  EXPECT_TRUE(simplifies_to(Expr(7) / Expr(-2), -3));  // truncation
  EXPECT_TRUE(simplifies_to(Expr(-7) % Expr(2), -1));  // sign of the dividend
  EXPECT_TRUE(
      simplifies_to(int_imm(2147483647, i32) + int_imm(1, i32), int_imm(-2147483648LL, i32)));
  EXPECT_TRUE(simplifies_to(int_imm(200, u8) + int_imm(100, u8), int_imm(44, u8)));
  EXPECT_TRUE(simplifies_to(float_imm(1.5) + float_imm(2.0), float_imm(3.5)));
  EXPECT_TRUE(simplifies_to(float_imm(0.1, f64) * float_imm(3.0, f64), float_imm(0.1 * 3.0, f64)));
  EXPECT_TRUE(simplifies_to(cast(i32, int_imm(300)), int_imm(300, i32)));
  EXPECT_TRUE(simplifies_to(cast(i8, int_imm(300)), int_imm(44, i8)));
  EXPECT_TRUE(simplifies_to(cast(f16, float_imm(1.0 / 3.0, f64)), float_imm(0.333251953125, f16)));
  EXPECT_TRUE(simplifies_to(cast(i64, float_imm(-2.75)), int_imm(-2)));
  EXPECT_TRUE(simplifies_to(Expr(3) < Expr(4), bool_imm(true)));
  // Not folded: undefined in C, or a result the generated code could compute differently.
  EXPECT_TRUE(unchanged(Expr(5) / Expr(0)));
  EXPECT_TRUE(unchanged(Expr(5) % Expr(0)));
  EXPECT_TRUE(unchanged(float_imm(1.0) / float_imm(0.0)));
  EXPECT_TRUE(unchanged(cast(i32, float_imm(1e20, f64))));
  EXPECT_TRUE(unchanged(binary(BinaryOp::shl, Expr(1), Expr(64))));
}

TEST_F(SimplifyTest, FloatsGetOnlyExactIdentities) {
  EXPECT_TRUE(simplifies_to(f * float_imm(1.0), f));
  EXPECT_TRUE(simplifies_to(f / float_imm(1.0), f));
  EXPECT_TRUE(simplifies_to(f - float_imm(0.0), f));
  EXPECT_TRUE(simplifies_to(float_imm(2.0) * f, f * float_imm(2.0)));
  // -0.0 + 0.0 is +0.0, and f - f is NaN for infinite f.
  EXPECT_TRUE(unchanged(f + float_imm(0.0)));
  EXPECT_TRUE(unchanged(f - f));
  EXPECT_TRUE(unchanged(f * float_imm(0.0)));
  EXPECT_TRUE(unchanged((f + float_imm(1.0)) - float_imm(1.0)));
}

TEST_F(SimplifyTest, NarrowTypesWrap) {
  // i8 arithmetic wraps: 16 * 16 is 0, so (a * 16) / 16 is not a.
  const Var a8 = var("a8", i8), b8 = var("b8", i8);
  EXPECT_TRUE(unchanged(a8 * 16 / 16));
  EXPECT_TRUE(unchanged(min(a8 + 1, b8 + 1)));
  EXPECT_TRUE(simplifies_to(a8 * 38 * 9, a8 * 86));  // 342 wraps to 86: a ring identity
  EXPECT_TRUE(simplifies_to((a8 + 100) - a8, int_imm(100, i8)));
  // Where bounds keep the operands in range, the usual rules apply.
  bounds.bind(a8, {0, 7});
  EXPECT_TRUE(simplifies_to((a8 * 16 + 3) / 16, a8));
  // i32 overflow is undefined in C++, so it is assumed away like i64's.
  const Var b32 = var("b32", i32);
  EXPECT_TRUE(simplifies_to(b32 * 4 / 2, b32 * 2));
}

TEST_F(SimplifyTest, UnchangedInputIsTheSameNode) {
  const Expr e = load(var("A", Type::tensor(f32, {8, 16})), {i, j}) * f + g;
  EXPECT_TRUE(simplify(e, &bounds).same_as(e));
  const Expr idx = load(var("B", Type::tensor(f32, {128})), {(i * 16 + j) % 128});
  EXPECT_TRUE(struct_equal(simplify(idx, &bounds), load(idx.as<LoadNode>()->buffer, {i * 16 + j})));
}

// ---- statements ---------------------------------------------------------------------------

class SimplifyStmtTest : public ::testing::Test {
 protected:
  ::testing::AssertionResult simplifies_to(const Stmt& input, const Stmt& expected) {
    const Stmt got = simplify(input);
    if (struct_equal(got, expected)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << to_string(input) << "\nsimplified to\n"
                                         << to_string(got) << "\nexpected\n"
                                         << to_string(expected);
  }

  Var a = var("A", Type::tensor(f32, {128}));
  Var i = var("i"), j = var("j"), t = var("t"), m = var("m");
  Expr zero = float_imm(0.0);
};

TEST_F(SimplifyStmtTest, LoopVariablesAreBounded) {
  const Expr flat = i * 16 + j;
  const Stmt in = for_loop(i, 8, for_loop(j, 16, store(a, {(flat / 16) * 16 + flat % 16}, zero)));
  EXPECT_TRUE(simplifies_to(in, for_loop(i, 8, for_loop(j, 16, store(a, {i * 16 + j}, zero)))));
}

TEST_F(SimplifyStmtTest, TrivialLoops) {
  EXPECT_TRUE(simplifies_to(for_loop(i, 0, store(a, {i}, zero)), seq({})));
  EXPECT_TRUE(simplifies_to(for_loop(i, 1, store(a, {i * 4 + 3}, zero)), store(a, {3}, zero)));
  const Stmt kept = for_loop(i, m, store(a, {i}, zero));
  EXPECT_TRUE(simplify(kept).same_as(kept));
}

TEST_F(SimplifyStmtTest, DecidedConditions) {
  const Stmt body = store(a, {i}, zero);
  EXPECT_TRUE(simplifies_to(for_loop(i, 8, if_then_else(i < 8, body)), for_loop(i, 8, body)));
  EXPECT_TRUE(simplifies_to(for_loop(i, 8, if_then_else(i >= 8, body)), seq({})));
  EXPECT_TRUE(
      simplifies_to(if_then_else(bool_imm(false), body, store(a, {0}, zero)), store(a, {0}, zero)));
  const Stmt kept = for_loop(i, 8, if_then_else(i < m, body));
  EXPECT_TRUE(simplify(kept).same_as(kept));
}

TEST_F(SimplifyStmtTest, BranchConditionsNarrowBounds) {
  // Within `if (i < 4)`, i / 4 is 0; in the else branch i % 4 is i - 4.
  const Stmt in =
      for_loop(i, 8, if_then_else(i < 4, store(a, {i / 4}, zero), store(a, {(i - 4) % 4}, zero)));
  const Stmt out =
      for_loop(i, 8, if_then_else(i < 4, store(a, {0}, zero), store(a, {i - 4}, zero)));
  EXPECT_TRUE(simplifies_to(in, out));
}

TEST_F(SimplifyStmtTest, LetAndMappingVariables) {
  const Stmt let = for_loop(j, 16, let_stmt(t, j % 16, store(a, {t / 16 + t}, zero)));
  EXPECT_TRUE(simplifies_to(let, for_loop(j, 16, let_stmt(t, j, store(a, {t}, zero)))));
  const TaskMapping mapping = TaskMapping::spatial({4, 8});
  const Stmt mapped =
      for_mapping({i, j}, mapping, m, store(a, {(i * 8 + j) / 8 * 8 + j % 8}, zero));
  EXPECT_TRUE(simplifies_to(mapped, for_mapping({i, j}, mapping, m, store(a, {i * 8 + j}, zero))));
}

// A register array read at an unrolled copy's task coordinates: the coordinates' lets are
// substituted where that makes the element index a constant (else the array would live in
// local memory), and kept where it does not.
TEST_F(SimplifyStmtTest, RegisterIndicesFoldThroughCoordinateLets) {
  const Var acc = var("acc", Type::tensor(f32, {8}));
  const Var row = var("row");
  // row = t / 4 * 4 + 2 for a worker t in [0, 16): the register tile's row row % 4 is 2.
  const Stmt in = for_loop(
      t, 16,
      seq({declare(acc),
           let_stmt(row, t / 4 * 4 + 2,
                    seq({store(acc, {row % 4}, zero), store(a, {row}, load(acc, {row % 4 + 4})),
                         store(acc, {row % 3}, zero)}))}));
  const Stmt out = for_loop(
      t, 16,
      seq({declare(acc), let_stmt(row, t / 4 * 4 + 2,
                                  seq({store(acc, {2}, zero), store(a, {row}, load(acc, {6})),
                                       store(acc, {row % 3}, zero)}))}));
  EXPECT_TRUE(simplifies_to(in, out));
}

TEST_F(SimplifyStmtTest, FreeVariableFacts) {
  BoundAnalyzer facts;
  facts.bind(m, {1, 4});
  const Stmt in = for_loop(i, m, store(a, {i / 4}, zero));
  const Stmt got = simplify(in, &facts);
  EXPECT_TRUE(struct_equal(got, for_loop(i, m, store(a, {0}, zero)))) << to_string(got);
}

TEST_F(SimplifyStmtTest, Functions) {
  const Function same("copy", {a, m}, for_loop(i, m, store(a, {i}, zero)));
  EXPECT_EQ(simplify(same).get(), same.get());
  const Function f("clear", {a}, for_loop(i, 8, store(a, {i * 16 / 16}, zero)));
  const Function g = simplify(f);
  EXPECT_EQ(g->name, "clear");
  EXPECT_TRUE(struct_equal(g->body, for_loop(i, 8, store(a, {i}, zero)))) << to_string(g);
}

// ---- evaluation ---------------------------------------------------------------------------

TEST(Evaluate, CSemantics) {
  const Var x = var("x");
  const Env env{{x, Value::of_int(-7)}};
  EXPECT_EQ(evaluate_scalar(x / 2, env).i, -3);
  EXPECT_EQ(evaluate_scalar(x % 2, env).i, -1);
  EXPECT_EQ(evaluate_scalar(binary(BinaryOp::shr, x, Expr(1)), env).i, -4);
  EXPECT_EQ(evaluate_scalar(min(x, 3) * -1, env).i, 7);
  EXPECT_EQ(evaluate_scalar(int_imm(127, i8) + int_imm(1, i8)).i, -128);
  EXPECT_EQ(evaluate_scalar(cast(u8, int_imm(-1))).i, 255);
  EXPECT_TRUE(evaluate_scalar(select(x < 0, bool_imm(true), bool_imm(false)), env).as_bool());
  EXPECT_DOUBLE_EQ(evaluate_scalar(cast(f32, int_imm(16777217))).f, 16777216.0);  // rounds to even
  EXPECT_DOUBLE_EQ(evaluate_scalar(cast(bf16, float_imm(1.0 + 1.0 / 256, f64))).f, 1.0);
  EXPECT_TRUE(std::isinf(evaluate_scalar(cast(f16, float_imm(70000.0))).f));
  EXPECT_DOUBLE_EQ(evaluate_scalar(cast(f16, float_imm(std::ldexp(1.0, -24), f64))).f,
                   std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isinf(evaluate_scalar(float_imm(1.0) / float_imm(0.0)).f));
}

TEST(Evaluate, Errors) {
  const Var x = var("x");
  const Env env{{x, Value::of_int(0)}};
  EXPECT_THROW(evaluate_scalar(Expr(1) / x, env), UserError);
  EXPECT_THROW(evaluate_scalar(Expr(1) % x, env), UserError);
  EXPECT_THROW(evaluate_scalar(x + var("unbound")), UserError);
  EXPECT_THROW(evaluate_scalar(binary(BinaryOp::shl, Expr(1), Expr(-1))), UserError);
  EXPECT_THROW(evaluate_scalar(cast(i32, float_imm(NAN))), UserError);
  try {
    evaluate_scalar(Expr(1) / x, env);
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "division by zero");
  }
  // && and ?: do not evaluate what C would not.
  EXPECT_FALSE(evaluate_scalar(ne(x, 0) && (Expr(1) / x > 0), env).as_bool());
  EXPECT_EQ(evaluate_scalar(select(eq(x, 0), Expr(5), Expr(1) / x), env).i, 5);
}

}  // namespace
}  // namespace taskmap::arith
