// IR construction, printing and structural equality.
#include <gtest/gtest.h>

#include "taskmap/error.h"
#include "taskmap/ir/compute.h"
#include "taskmap/ir/equality.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"

namespace taskmap::ir {
namespace {

TEST(DType, NamesRoundTrip) {
  for (DType d : {f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean, f32.with_lanes(16)}) {
    auto parsed = DType::parse(d.name());
    ASSERT_TRUE(parsed.has_value()) << d.name();
    EXPECT_EQ(*parsed, d);
  }
  EXPECT_EQ(f32.with_lanes(16).name(), "f32x16");
  EXPECT_EQ(bf16.bytes(), 2);
  EXPECT_FALSE(DType::parse("f33").has_value());
}

TEST(Type, TensorTypesPrintShapeAndNonDefaultLayout) {
  EXPECT_EQ(Type::tensor(f32, {4, 8}).str(), "f32[4, 8]");
  Type tile = Type::tensor(f32, {8, 16}, Layout::local({4, 8}) * Layout::row_major({2, 2}));
  EXPECT_EQ(tile.str(), "f32[8, 16] @ local(4, 8) * row_major(2, 2)");
  EXPECT_EQ(Type::pointer(f16).str(), "f16*");
  EXPECT_THROW(Type::tensor(f32, {4, 8}, Layout::row_major({8, 4})), UserError);
}

TEST(Printer, ExpressionsUseMinimalParentheses) {
  Var i = var("i"), j = var("j");
  EXPECT_EQ(to_string((i + j) * 4 + j % 2), "(i + j) * 4 + j % 2");
  EXPECT_EQ(to_string(i - (j - 1)), "i - (j - 1)");
  EXPECT_EQ(to_string(i - j - 1), "i - j - 1");
  EXPECT_EQ(to_string(i < 4 && !(eq(j, 2) || j < 1)), "i < 4 && !(j == 2 || j < 1)");
  EXPECT_EQ(to_string(select(i < j, i, j)), "select(i < j, i, j)");
  Var x = var("x", f32);
  EXPECT_EQ(to_string(call("exp", {-x}) * 2), "exp(-x) * 2.0f");
  EXPECT_EQ(to_string(cast(f16, x)), "f16(x)");
  EXPECT_EQ(to_string(min(i, 3)), "min(i, 3)");
  EXPECT_EQ(to_string(-int_imm(-4)), "-(-4)");
  EXPECT_EQ(to_string(-(-i)), "-(-i)");
}

TEST(Printer, DistinctVariablesWithOneNameGetSuffixes) {
  Var a = var("i"), b = var("i");
  EXPECT_EQ(to_string(a + b * a), "i + i_1 * i");
}

TEST(Printer, FunctionsPrintAsNestedBlocks) {
  Var a = var("a", Type::tensor(f32, {4, 8}));
  Var c = var("c", Type::tensor(f32, {4, 8}));
  Var i = var("i"), j = var("j");
  Stmt body = for_loop(
      i, 4, for_loop(j, 8, store(c, {i, j}, max(load(a, {i, j}), 0.0f)), LoopHint::vectorize()),
      LoopHint::parallel());
  Function f("relu", {a, c}, body);
  EXPECT_EQ(to_string(f),
            "kernel relu(a: f32[4, 8], c: f32[4, 8]) {\n"
            "  for i in range(4) parallel {\n"
            "    for j in range(8) vectorize {\n"
            "      c[i, j] = max(a[i, j], 0.0f)\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(Printer, ComputeDefinitionsShowReductions) {
  Task t = [] {
    Var a = tensor_input("a", f32, {4, 3});
    Expr s = compute("s", {4}, [&](const Index& i) {
      return reduce(ReduceOp::sum, {3}, [&](const Index& r) { return load(a, {i[0], r[0]}); });
    });
    return Task("row_sum", {a}, {s});
  }();
  EXPECT_EQ(t.str(),
            "task row_sum\n"
            "  input a: f32[4, 3]\n"
            "  compute s[i < 4] = sum([r0 < 3], a[i, r0])\n"
            "  output s\n");
  EXPECT_FALSE(t.is_injective());
  ASSERT_EQ(t.params().size(), 2u);
  EXPECT_EQ(t.params()[1].type().str(), "f32[4]");
}

TEST(Task, RecordsInverseMapsAndFusionPermissions) {
  // transpose: input element (i, j) lands at output element (j, i).
  Var a = tensor_input("a", f32, {3, 5});
  Expr t = compute("t", {5, 3}, [&](const Index& ji) { return load(a, {ji[1], ji[0]}); });
  Var i = var("i"), j = var("j");
  Task task("transpose", {a}, {t}, {{"perm", "1,0"}}, {InverseMap{{i, j}, {j, i}}});
  EXPECT_TRUE(task.is_injective());
  ASSERT_TRUE(task.inverse_map(0).has_value());
  EXPECT_TRUE(task.inverse_map(0)->output_index[0].same_as(j));
  EXPECT_TRUE(task.allow_prologue() && task.allow_epilogue());
  task.set_fusion(true, false);
  EXPECT_FALSE(task.allow_epilogue());
  EXPECT_NE(task.str().find("attr perm = 1,0"), std::string::npos) << task.str();
  // A compute that reads a tensor the task does not list is rejected.
  Var other = tensor_input("other", f32, {3});
  Expr bad = compute("bad", {3}, [&](const Index& k) { return load(other, k); });
  EXPECT_THROW(Task("bad", {a}, {bad}), UserError);
  EXPECT_THROW(Task("bad", {a}, {t}, {}, {std::nullopt, std::nullopt}), UserError);
}

TEST(Factories, RejectBadOperands) {
  Var i = var("i"), x = var("x", f32);
  EXPECT_THROW(i + x, UserError);  // dtype mismatch without a constant
  EXPECT_NO_THROW(x + 1);          // constants adapt
  EXPECT_THROW(load(var("t", Type::tensor(f32, {4, 4})), {i}), UserError);  // rank
  EXPECT_THROW(load(x, {i}), UserError);                                    // not a tensor
  EXPECT_THROW(call("no_such_primitive", {x}), UserError);
  EXPECT_EQ(*as_const_int(int_imm(300, i8)), 44);  // wraps like a C conversion
  EXPECT_EQ(*as_const_int(int_imm(255, i8)), -1);
  EXPECT_EQ(*as_const_int(int_imm(-1, u8)), 255);
  EXPECT_THROW(call("exp", {i}), UserError);              // float-only
  EXPECT_THROW(if_then_else(i, evaluate(i)), UserError);  // condition not bool
  EXPECT_THROW(for_loop(i, var("n"), evaluate(i), LoopHint::unroll()), UserError);
  try {
    (void)(i && (i < 2));
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'&&'"), std::string::npos) << e.what();
  }
}

TEST(Factories, FunctionRejectsUndeclaredVariables) {
  Var a = var("a", Type::tensor(f32, {4})), n = var("n");
  Stmt body = store(a, {n}, 1.0f);
  try {
    Function f("bad", {a}, body);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("uses variable 'n'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(Function("good", {a, n}, body));
}

TEST(StructuralEquality, BoundVariablesMatchByPosition) {
  auto make = [](const char* name) {
    Var i = var(name);
    Var a = var("a", Type::tensor(f32, {8}));
    return std::make_pair(for_loop(i, 8, store(a, {i}, 1.0f)), a);
  };
  auto [s1, a1] = make("i");
  auto [s2, a2] = make("k");
  // Different buffers (free variables) make them differ...
  EXPECT_FALSE(struct_equal(s1, s2));
  // ...but with the same free buffer and renamed loop variables they are equal.
  Var k = var("k");
  Stmt s3 = for_loop(k, 8, store(a1, {k}, 1.0f));
  EXPECT_TRUE(struct_equal(s1, s3));
  EXPECT_EQ(struct_hash(s1), struct_hash(s3));
  Stmt s4 = for_loop(k, 8, store(a1, {k}, 2.0f));
  EXPECT_FALSE(struct_equal(s1, s4));
  Stmt s5 = for_loop(k, 8, store(a1, {k}, 1.0f), LoopHint::parallel());
  EXPECT_FALSE(struct_equal(s1, s5));
}

TEST(StructuralEquality, FreeVariablesMustBeIdentical) {
  Var x = var("x"), y = var("x");
  EXPECT_TRUE(struct_equal(x + 1, x + 1));
  EXPECT_FALSE(struct_equal(x + 1, y + 1));
  EXPECT_FALSE(struct_equal(x + 1, x + 2));
  EXPECT_FALSE(struct_equal(x + 1, x - 1));
}

TEST(StructuralEquality, FunctionsEqualUpToParameterNames) {
  auto make = [](const char* pname) {
    Var a = var(pname, Type::tensor(f32, {4}));
    Var i = var("i");
    return Function("f", {a}, for_loop(i, 4, store(a, {i}, load(a, {i}) * 2.0f)));
  };
  EXPECT_TRUE(struct_equal(make("a"), make("b")));
  EXPECT_EQ(struct_hash(make("a")), struct_hash(make("b")));
}

TEST(Mutator, ReturnsTheSameNodeWhenNothingChanges) {
  Var i = var("i"), a = var("a", Type::tensor(f32, {8}));
  Stmt s = for_loop(i, 8, store(a, {i}, load(a, {i}) + 1.0f));
  struct Identity : IRMutator {};
  EXPECT_TRUE(Identity().mutate(s).same_as(s));
  Stmt t = substitute(s, {{a, var("b", Type::tensor(f32, {8}))}});
  EXPECT_FALSE(t.same_as(s));
  EXPECT_EQ(to_string(t), "for i in range(8) {\n  b[i] = b[i] + 1.0f\n}\n");
}

TEST(FreeVars, ExcludesBoundVariables) {
  Var i = var("i"), n = var("n"), a = var("a", Type::tensor(f32, {8}));
  Stmt s = for_loop(i, n, store(a, {i}, 0.0f));
  std::vector<Var> free = free_vars(s);
  ASSERT_EQ(free.size(), 2u);
  EXPECT_TRUE(free[0].same_as(n));
  EXPECT_TRUE(free[1].same_as(a));
}

}  // namespace
}  // namespace taskmap::ir
