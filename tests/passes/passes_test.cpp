// Pass tests: IR before -> one pass -> expected IR text. Each test builds a small kernel with the
// kernel builder, runs one pass and compares the printed result.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "passes/drop_unused_lets.h"
#include "passes/flatten_tensor_index.h"
#include "passes/hoist_guarded_loads.h"
#include "passes/inline_lets.h"
#include "passes/lower_task_mappings.h"
#include "passes/simplify_arithmetic.h"
#include "passes/split_loops_at_selects.h"
#include "passes/unroll_loops.h"
#include "taskmap/compile.h"
#include "taskmap/ir/printer.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/passes/pipeline.h"

namespace taskmap::passes {
namespace {

using namespace ir;
using lang::KernelBuilder;

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// spatial(4, 8) * repeat(2, 2) over 32 workers, each writing its 2x2 block.
Function block_copy() {
  KernelBuilder kb("block_copy");
  Var a = kb.param("a", Type::tensor(f32, {8, 16}));
  Var c = kb.param("c", Type::tensor(f32, {8, 16}));
  kb.for_range("w", 32, LoopHint::parallel(), [&](const Var& w) {
    kb.for_mapping(TaskMapping::spatial({4, 8}) * TaskMapping::repeat({2, 2}), w,
                   [&](const Index& ij) { kb.store(c, ij, load(a, ij)); });
  });
  return kb.build();
}

TEST(LowerTaskMappings, SpatialTimesRepeatBecomesLoopsAndIndexArithmetic) {
  Function f = block_copy();
  EXPECT_EQ(to_string(f),
            "kernel block_copy(a: f32[8, 16], c: f32[8, 16]) {\n"
            "  for w in range(32) parallel {\n"
            "    for (i, j) in spatial(4, 8) * repeat(2, 2) on w {\n"
            "      c[i, j] = a[i, j]\n"
            "    }\n"
            "  }\n"
            "}\n");
  Function lowered = lower_task_mappings(f);
  EXPECT_EQ(to_string(lowered),
            "kernel block_copy(a: f32[8, 16], c: f32[8, 16]) {\n"
            "  for w in range(32) parallel {\n"
            "    for r0 in range(2) unroll {\n"
            "      for r1 in range(2) unroll {\n"
            "        let i: i64 = w / 8 * 2 + r0\n"
            "        let j: i64 = w % 8 * 2 + r1\n"
            "        c[i, j] = a[i, j]\n"
            "      }\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(UnrollLoops, CopiesTheBodyWithConstants) {
  KernelBuilder kb("fill");
  Var c = kb.param("c", Type::tensor(f32, {3}));
  kb.for_range("i", 3, LoopHint::unroll(), [&](const Var& i) { kb.store(c, {i}, 1.0f); });
  Function f = unroll_loops(kb.build());
  EXPECT_EQ(to_string(f),
            "kernel fill(c: f32[3]) {\n"
            "  c[0] = 1.0f\n"
            "  c[1] = 1.0f\n"
            "  c[2] = 1.0f\n"
            "}\n");
}

TEST(UnrollLoops, EachCopyDeclaresFreshVariables) {
  KernelBuilder kb("twice");
  Var c = kb.param("c", Type::tensor(f32, {2}));
  kb.for_range("i", 2, LoopHint::unroll(), [&](const Var& i) {
    Var t = kb.scalar("t", f32, 2.0f);
    kb.store(c, {i}, Expr(t));
  });
  Function f = unroll_loops(kb.build());
  EXPECT_EQ(to_string(f),
            "kernel twice(c: f32[2]) {\n"
            "  declare t: f32 = 2.0f\n"
            "  c[0] = t\n"
            "  declare t_1: f32 = 2.0f\n"
            "  c[1] = t_1\n"
            "}\n");
}

TEST(InlineLets, SubstitutesCheapIndexArithmeticOnly) {
  Var a = var("a", Type::tensor(f32, {64})), c = var("c", Type::tensor(f32, {64}));
  Var w = var("w"), i = var("i"), x = var("x", f32);
  Stmt body = for_loop(
      w, 8, let_stmt(i, w * 8 + 1, let_stmt(x, load(a, {i}), store(c, {i}, Expr(x) * Expr(x)))));
  Function f = inline_lets(Function("k", {a, c}, body));
  EXPECT_EQ(to_string(f),
            "kernel k(a: f32[64], c: f32[64]) {\n"
            "  for w in range(8) {\n"
            "    let x: f32 = a[w * 8 + 1]\n"
            "    c[w * 8 + 1] = x * x\n"
            "  }\n"
            "}\n");
}

TEST(DropUnusedLets, DropsBindingsNothingReadsUnlessTheyCall) {
  Var a = var("a", Type::tensor(f32, {64})), c = var("c", Type::tensor(f32, {64}));
  Var w = var("w"), i = var("i"), j = var("j"), t = var("t", i32);
  // j is never read; t is not read either but calls thread_idx_x; i is read.
  Stmt body = for_loop(w, 8,
                       let_stmt(i, w * 8 + 1,
                                let_stmt(j, w * 3 % 5,
                                         let_stmt(t, call("thread_idx_x", {}, Type(i32)),
                                                  store(c, {i}, load(a, {i}))))));
  Function f = drop_unused_lets(Function("k", {a, c}, body));
  EXPECT_EQ(to_string(f),
            "kernel k(a: f32[64], c: f32[64]) {\n"
            "  for w in range(8) {\n"
            "    let i: i64 = w * 8 + 1\n"
            "    let t: i32 = thread_idx_x<i32>()\n"
            "    c[i] = a[i]\n"
            "  }\n"
            "}\n");
}

// A chain whose last link nothing reads (a row's index read only by the row, whose guard was
// folded away) goes whole.
TEST(DropUnusedLets, DropsChainsOfBindings) {
  Var a = var("a", Type::tensor(f32, {64})), c = var("c", Type::tensor(f32, {64}));
  Var i = var("i"), row = var("row"), col = var("col");
  Stmt body = let_stmt(
      i, int_imm(3), let_stmt(row, i + 16, let_stmt(col, i * 2, store(c, {col}, load(a, {col})))));
  Function f = drop_unused_lets(Function("k", {a, c}, body));
  EXPECT_EQ(to_string(f),
            "kernel k(a: f32[64], c: f32[64]) {\n"
            "  let i: i64 = 3\n"
            "  let col: i64 = i * 2\n"
            "  c[col] = a[col]\n"
            "}\n");
  Stmt unread = let_stmt(i, int_imm(3), let_stmt(row, i + 16, store(c, {0}, load(a, {1}))));
  EXPECT_EQ(to_string(drop_unused_lets(Function("k", {a, c}, unread))),
            "kernel k(a: f32[64], c: f32[64]) {\n"
            "  c[0] = a[1]\n"
            "}\n");
}

TEST(FlattenTensorIndex, IndicesGoThroughLayoutsAndTensorsBecomeOneDimensional) {
  KernelBuilder kb("tile");
  Var a = kb.param("a", Type::tensor(f32, {4, 8}));
  Var acc = kb.register_tensor("acc", f32, Layout::local({2, 2}) * Layout::row_major({2, 4}));
  Var i = var("i"), j = var("j");
  kb.for_range("i", 4, [&](const Var& i) {
    kb.for_range("j", 8, [&](const Var& j) { kb.store(acc, {i, j}, load(a, {i, j})); });
  });
  (void)i;
  (void)j;
  Function f = flatten_tensor_index(kb.build());
  EXPECT_EQ(to_string(f),
            "kernel tile(a: f32[32]) {\n"
            "  declare acc: f32[8]\n"
            "  for i in range(4) {\n"
            "    for j in range(8) {\n"
            "      acc[i % 2 * 4 + j % 4] = a[i * 8 + j]\n"
            "    }\n"
            "  }\n"
            "}\n");
}

// In a vectorized loop, the accumulation whose condition does not read the loop variable blends
// a hoisted load (clamped into range); the one whose condition does and the store stay selects.
TEST(HoistGuardedLoads, BlendsInRangeLoadsUnderInvariantConditions) {
  KernelBuilder kc("clamped");
  Var xc = kc.param("x", Type::tensor(f32, {4, 16}));
  Var yc = kc.param("y", Type::tensor(f32, {4, 16}));
  kc.for_range("i", 4, [&](const Var& i) {
    kc.for_range("c", 16, LoopHint::vectorize(), [&](const Var& c) {
      Var acc = kc.scalar("acc", f32, float_imm(0.0));
      kc.assign(acc, acc + select(i > 0, load(xc, {max(i - 1, 0), c}), float_imm(0.0)));
      kc.assign(acc, acc + select(c > 0, load(xc, {i, max(c - 1, 0)}), float_imm(0.0)));
      kc.store(yc, {i, c}, select(i > 0, load(xc, {max(i - 1, 0), c}), acc));
    });
  });
  const std::string clamped = to_string(hoist_guarded_loads(kc.build()));
  EXPECT_EQ(count(clamped, "blend<f32>("), 1) << clamped;
  EXPECT_EQ(count(clamped, "let guarded"), 1) << clamped;
  EXPECT_EQ(count(clamped, "select("), 2) << clamped;  // the varying condition, the store
}

// A depthwise window's term, select(inside, x * w, 0): the whole product is hoisted (its loads
// are clamped in range); a quotient is not (it could trap on integers, or divide by zero where
// the select would not).
TEST(HoistGuardedLoads, BlendsProductsOfInRangeLoads) {
  KernelBuilder kb("depthwise");
  Var x = kb.param("x", Type::tensor(f32, {4, 16}));
  Var w = kb.param("w", Type::tensor(f32, {3, 16}));
  Var y = kb.param("y", Type::tensor(f32, {4, 16}));
  kb.for_range("i", 4, [&](const Var& i) {
    kb.for_range("c", 16, LoopHint::vectorize(), [&](const Var& c) {
      Var acc = kb.scalar("acc", f32, float_imm(0.0));
      kb.assign(acc,
                acc + select(i > 0, load(x, {max(i - 1, 0), c}) * load(w, {0, c}), float_imm(0.0)));
      kb.assign(acc,
                acc + select(i < 3, load(x, {min(i + 1, 3), c}) / load(w, {2, c}), float_imm(0.0)));
      kb.store(y, {i, c}, acc);
    });
  });
  const std::string text = to_string(hoist_guarded_loads(kb.build()));
  EXPECT_EQ(count(text, "blend<f32>("), 1) << text;
  EXPECT_EQ(count(text, "let guarded"), 1) << text;
  EXPECT_EQ(count(text, "select("), 1) << text;
}

// An accumulator declared with its first term (a template's unrolled window, whose load a fused
// Pad prologue masks) is declared bare and assigned the blend, so that the loop vectorizes too.
TEST(HoistGuardedLoads, SplitsDeclarationsOfGuardedFirstTerms) {
  KernelBuilder kb("first_term");
  Var x = kb.param("x", Type::tensor(f32, {4, 16}));
  Var y = kb.param("y", Type::tensor(f32, {4, 16}));
  kb.for_range("i", 4, [&](const Var& i) {
    kb.for_range("c", 16, LoopHint::vectorize(), [&](const Var& c) {
      Var acc = kb.scalar("acc", f32, select(i > 0, load(x, {max(i - 1, 0), c}), float_imm(0.0)));
      kb.assign(acc, acc + load(x, {i, c}));
      kb.store(y, {i, c}, acc);
    });
  });
  Function f = hoist_guarded_loads(kb.build());
  const std::string text = to_string(f);
  EXPECT_EQ(count(text, "blend<f32>("), 1) << text;
  EXPECT_EQ(count(text, "select("), 0) << text;
  // Still a valid kernel: it compiles and computes the same.
  std::vector<CompiledKernel> compiled = compile_kernels({f}, CompileOptions{});
  std::vector<float> xs(64), ys(64, std::nanf(""));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : xs) v = dist(rng);
  compiled[0]({xs.data(), ys.data()});
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 16; ++c) {
      const float expected = (i > 0 ? xs[(i - 1) * 16 + c] : 0.0f) + xs[i * 16 + c];
      EXPECT_FLOAT_EQ(ys[i * 16 + c], expected) << i << " " << c;
    }
}

// A Concat along the inner axis (the choice of input a comparison of the loop variable with
// constants, the unchosen inputs' indices clamped) becomes one copy loop per input, without a
// select or a clamp, and computes the same; a loop whose choice depends on more than its own
// variable stays whole.
TEST(SplitLoopsAtSelects, CutsAConcatIntoOneLoopPerInput) {
  KernelBuilder kb("concat");
  Var a = kb.param("a", Type::tensor(f32, {3, 5}));
  Var b = kb.param("b", Type::tensor(f32, {3, 7}));
  Var y = kb.param("y", Type::tensor(f32, {3, 12}));
  Var z = kb.param("z", Type::tensor(f32, {3, 12}));
  kb.for_range("i", 3, [&](const Var& i) {
    kb.for_range("c", 12, LoopHint::vectorize(), [&](const Var& c) {
      kb.store(y, {i, c}, select(c < 5, load(a, {i, min(c, 4)}), load(b, {i, max(c - 5, 0)})));
    });
    // (c + i < 5 is not a comparison of the variable itself.)
    kb.for_range("c", 12, LoopHint::vectorize(), [&](const Var& c) {
      kb.store(z, {i, c}, select(c + i < 5, float_imm(1.0), float_imm(2.0)));
    });
  });
  Function f = split_loops_at_selects(kb.build());
  const std::string text = to_string(f);
  EXPECT_EQ(count(text, "vectorize {"), 3) << text;  // two pieces and the whole loop
  EXPECT_EQ(count(text, "select("), 1) << text;
  EXPECT_EQ(count(text, "min("), 0) << text;
  EXPECT_EQ(count(text, "max("), 0) << text;
  std::vector<CompiledKernel> compiled = compile_kernels({f}, CompileOptions{});
  std::vector<float> as(15), bs(21), ys(36, std::nanf("")), zs(36, std::nanf(""));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : as) v = dist(rng);
  for (float& v : bs) v = dist(rng);
  compiled[0]({as.data(), bs.data(), ys.data(), zs.data()});
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 12; ++c) {
      EXPECT_EQ(ys[i * 12 + c], c < 5 ? as[i * 5 + c] : bs[i * 7 + c - 5]) << i << " " << c;
      EXPECT_EQ(zs[i * 12 + c], c + i < 5 ? 1.0f : 2.0f) << i << " " << c;
    }
}

TEST(Pipeline, ListsItsPassesInOrder) {
  std::vector<std::string> names;
  for (const Pass& p : lowering_passes()) names.emplace_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lower_task_mappings", "unroll_loops", "inline_lets",
                                             "split_loops_at_selects", "hoist_guarded_loads",
                                             "flatten_tensor_index", "simplify_arithmetic",
                                             "drop_unused_lets"}));
}

TEST(Pipeline, DumpsTheIrAfterEveryPassIntoADirectory) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "taskmap_dump_test";
  std::filesystem::remove_all(dir);
  PipelineOptions options;
  options.dump = true;
  options.dump_dir = dir.string();
  lower(block_copy(), options);
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "block_copy")) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{
                       "00-input.ir", "01-lower_task_mappings.ir", "02-unroll_loops.ir",
                       "03-inline_lets.ir", "04-split_loops_at_selects.ir",
                       "05-hoist_guarded_loads.ir", "06-flatten_tensor_index.ir",
                       "07-simplify_arithmetic.ir", "08-drop_unused_lets.ir"}));
  std::ifstream last(dir / "block_copy" / "07-simplify_arithmetic.ir");
  std::string text((std::istreambuf_iterator<char>(last)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("// after simplify_arithmetic"), std::string::npos) << text;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace taskmap::passes
