// Bound analysis: intervals of integer expressions under C semantics, saturation instead of
// overflow, whole-type ranges where narrow types may wrap, and the proofs built on bounds.
// (Random expressions check soundness in simplify_property_test.cpp.)
#include <gtest/gtest.h>

#include <limits>

#include "taskmap/arith/bound.h"
#include "taskmap/error.h"
#include "taskmap/ir/printer.h"

namespace taskmap::arith {
namespace {

using namespace taskmap::ir;  // NOLINT: the tests read as IR

constexpr int64_t kInf = IntBound::kPosInf;
constexpr int64_t kNegInf = IntBound::kNegInf;

class BoundTest : public ::testing::Test {
 protected:
  BoundTest() {
    bounds.bind_range(i, 8);
    bounds.bind_range(j, 16);
    bounds.bind_range(w, 32);
    bounds.bind(n, {-7, 5});
    bounds.bind(pos, {0, kInf});
  }

  ::testing::AssertionResult bounded(const Expr& e, int64_t lo, int64_t hi) {
    const IntBound b = bounds.bound(e);
    if (b == IntBound{lo, hi}) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << to_string(e) << " has bound " << b.str() << ", expected " << IntBound{lo, hi}.str();
  }

  // i in [0, 7], j in [0, 15], w in [0, 31], n in [-7, 5], pos in [0, inf]; x unknown.
  Var i = var("i"), j = var("j"), w = var("w"), n = var("n"), pos = var("pos"), x = var("x");
  BoundAnalyzer bounds;
};

TEST(IntBound, Basics) {
  EXPECT_EQ(IntBound::point(3).str(), "[3, 3]");
  EXPECT_EQ(IntBound::everything().str(), "[-inf, inf]");
  EXPECT_TRUE(IntBound::point(3).is_point());
  EXPECT_FALSE(IntBound::everything().is_point());
  EXPECT_EQ(IntBound::of_dtype(i8), (IntBound{-128, 127}));
  EXPECT_EQ(IntBound::of_dtype(u8), (IntBound{0, 255}));
  EXPECT_EQ(IntBound::of_dtype(boolean), (IntBound{0, 1}));
  EXPECT_TRUE(IntBound::of_dtype(i64).is_everything());
  EXPECT_EQ(union_of({0, 3}, {5, 9}), (IntBound{0, 9}));
}

TEST_F(BoundTest, Leaves) {
  EXPECT_TRUE(bounded(Expr(42), 42, 42));
  EXPECT_TRUE(bounded(i, 0, 7));
  EXPECT_TRUE(bounded(x, kNegInf, kInf));
  EXPECT_TRUE(bounded(var("b", i8), -128, 127));
  EXPECT_TRUE(bounded(load(var("A", Type::tensor(i32, {4})), {i}), -2147483648LL, 2147483647));
}

TEST_F(BoundTest, Arithmetic) {
  EXPECT_TRUE(bounded(i * 16 + j, 0, 127));
  EXPECT_TRUE(bounded(i - j, -15, 7));
  EXPECT_TRUE(bounded(-n, -5, 7));
  EXPECT_TRUE(bounded(n * n, -35, 49));  // corners; the analysis does not see n is the same
  EXPECT_TRUE(bounded(min(i, n), -7, 5));
  EXPECT_TRUE(bounded(max(i, n), 0, 7));
  EXPECT_TRUE(bounded(select(x < 0, i, n + 10), 0, 15));
  EXPECT_TRUE(bounded(select(i < 8, i, n), 0, 7));  // the condition is decided
}

TEST_F(BoundTest, SumsCancel) {
  EXPECT_TRUE(bounded(i - i, 0, 0));
  EXPECT_TRUE(bounded(i * 16 + j - i * 16, 0, 15));
  EXPECT_TRUE(bounded(x + 3 - x, 3, 3));
}

TEST_F(BoundTest, DivisionAndModulo) {
  EXPECT_TRUE(bounded((i * 16 + j) / 16, 0, 7));
  EXPECT_TRUE(bounded(n / 2, -3, 2));  // truncation: -7 / 2 == -3
  EXPECT_TRUE(bounded(n / -2, -2, 3));
  EXPECT_TRUE(bounded(w / n, -31, 31));  // a divisor range holding 0: 0 itself is excluded
  EXPECT_TRUE(bounded(j % 32, 0, 15));   // below the divisor: unchanged
  EXPECT_TRUE(bounded(w % 8, 0, 7));
  EXPECT_TRUE(bounded(n % 4, -3, 3));  // the sign of the dividend
  EXPECT_TRUE(bounded(x % 8, -7, 7));
  EXPECT_TRUE(bounded(pos % 8, 0, 7));
  EXPECT_TRUE(bounded(x % -8, -7, 7));
}

TEST_F(BoundTest, BitOperations) {
  EXPECT_TRUE(bounded(binary(BinaryOp::shl, j, Expr(2)), 0, 60));
  EXPECT_TRUE(bounded(binary(BinaryOp::shr, j, Expr(2)), 0, 3));
  EXPECT_TRUE(bounded(binary(BinaryOp::shr, n, Expr(1)), -4, 2));  // floor, not truncation
  EXPECT_TRUE(bounded(binary(BinaryOp::bit_and, x, Expr(15)), 0, 15));
  EXPECT_TRUE(bounded(binary(BinaryOp::bit_or, j, Expr(16)), 16, 31));
  EXPECT_TRUE(bounded(binary(BinaryOp::bit_xor, j, Expr(3)), 0, 15));
  EXPECT_TRUE(bounded(binary(BinaryOp::bit_or, n, Expr(1)), kNegInf, kInf));
}

TEST_F(BoundTest, Saturation) {
  EXPECT_TRUE(bounded(x + 1, kNegInf, kInf));
  EXPECT_TRUE(bounded(pos * 2 + 1, 1, kInf));
  EXPECT_TRUE(bounded(pos / 2, 0, kInf));
  EXPECT_TRUE(bounded(-pos, kNegInf, 0));
  const int64_t big = std::numeric_limits<int64_t>::max() - 1;
  EXPECT_TRUE(bounded(int_imm(big) + i, big, kInf));  // saturates instead of wrapping
  EXPECT_TRUE(bounded(pos * pos, 0, kInf));
}

TEST_F(BoundTest, NarrowTypesMayWrap) {
  Var a = var("a", i32);
  bounds.bind(a, {0, 1 << 30});
  EXPECT_TRUE(bounded(a + 5, 5, (1 << 30) + 5));
  EXPECT_TRUE(bounded(a * 4, -2147483648LL, 2147483647));  // could wrap
  EXPECT_TRUE(bounded(cast(i8, j), 0, 15));
  EXPECT_TRUE(bounded(cast(i8, w * 10), -128, 127));  // 310 does not fit
  EXPECT_TRUE(bounded(cast(i32, var("f", f32)), -2147483648LL, 2147483647));
  EXPECT_TRUE(bounded(cast(i64, a), 0, 1 << 30));
  // a + 1 > a is not a theorem where a + 1 may wrap.
  Var b = var("b", i32);
  EXPECT_FALSE(bounds.can_prove(b < b + 1));
  EXPECT_TRUE(bounds.can_prove(a < a + 1));
}

TEST_F(BoundTest, Proofs) {
  EXPECT_TRUE(bounds.can_prove(i < 8));
  EXPECT_TRUE(bounds.can_prove(i <= 7));
  EXPECT_FALSE(bounds.can_prove(i < 7));
  EXPECT_TRUE(bounds.can_prove(!(i >= 8)));
  EXPECT_TRUE(bounds.can_prove(i * 16 + j < 128));
  EXPECT_TRUE(bounds.can_prove(i * 16 + j < i * 16 + 16));
  EXPECT_TRUE(bounds.can_prove(ne(i, 8)));
  EXPECT_TRUE(bounds.can_prove(eq(x - x, 0)));
  EXPECT_TRUE(bounds.can_prove(x < x + 1));  // no 64-bit overflow
  EXPECT_TRUE(bounds.can_prove((i < 8) && (j < 16)));
  EXPECT_TRUE(bounds.can_prove((x < 0) || (j < 16)));
  EXPECT_FALSE(bounds.can_prove((x < 0) || (j < 15)));
  EXPECT_TRUE(bounds.can_prove(bool_imm(true)));
  EXPECT_FALSE(bounds.can_prove(x < 3));
  EXPECT_FALSE(bounds.can_disprove(x < 3));

  EXPECT_TRUE(bounds.can_disprove(i >= 8));
  EXPECT_TRUE(bounds.can_disprove(eq(i, 9)));
  EXPECT_TRUE(bounds.can_disprove((x < 0) && (i > 7)));
  EXPECT_TRUE(bounds.can_disprove(ne(j - j, 0)));
  EXPECT_TRUE(bounds.can_disprove(bool_imm(false)));
  EXPECT_FALSE(bounds.can_disprove(i > 6));

  EXPECT_EQ(bounds.bound(i < 8), IntBound::point(1));
  EXPECT_EQ(bounds.bound(i < 4), (IntBound{0, 1}));
  EXPECT_TRUE(bounds.is_nonneg(i * 16 + j));
  EXPECT_TRUE(bounds.is_nonneg(w / 8));
  EXPECT_FALSE(bounds.is_nonneg(n));
  EXPECT_FALSE(bounds.is_nonneg(x));
  // Floats are not analyzed: nothing is proven about them.
  Var f = var("f", f32);
  EXPECT_FALSE(bounds.can_prove(f < f + float_imm(1.0)));
}

TEST_F(BoundTest, Bindings) {
  EXPECT_EQ(bounds.binding(i), (IntBound{0, 7}));
  EXPECT_FALSE(bounds.binding(x).has_value());
  bounds.bind(x, {2, 3});
  EXPECT_TRUE(bounded(x * 2, 4, 6));
  bounds.unbind(x);
  EXPECT_TRUE(bounded(x * 2, kNegInf, kInf));
  bounds.bind(x, IntBound::point(5));
  EXPECT_TRUE(bounds.can_prove(eq(x, 5)));
  EXPECT_THROW(bounds.bind_range(x, 0), InternalError);
  // Bool variables are bound like integers: [1, 1] is true.
  Var p = var("p", boolean);
  bounds.bind(p, IntBound::point(1));
  EXPECT_TRUE(bounds.can_prove(p));
  EXPECT_TRUE(bounds.can_disprove(!p));
}

}  // namespace
}  // namespace taskmap::arith
