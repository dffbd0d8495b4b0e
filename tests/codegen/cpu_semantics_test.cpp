// CPU code generation keeps the IR's meaning: parentheses, integer widths, literals, names,
// f16/bf16, heap temporaries, assertions, control flow; and refuses unlowered IR.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include "codegen/codegen_support.h"
#include "taskmap/error.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::codegen {
namespace {
using namespace ir;
using namespace taskmap::testing;

TEST(CpuSemantics, ParenthesesFollowPrecedence) {
  Var a = var("a"), b = var("b"), c = var("c"), out = tensor("out", i64, 6);
  std::vector<Expr> values = {
      a - (b - c),
      (a + b) * c,
      a / (b * c),
      -(a * -3),
      binary(BinaryOp::bit_or, binary(BinaryOp::bit_and, a, b), c),
      select(a < b || (b < c && c < a), binary(BinaryOp::shl, a, b + 1), min(a, 4)),
  };
  std::vector<Stmt> stores;
  for (size_t k = 0; k < values.size(); ++k) {
    stores.push_back(store(out, {static_cast<int64_t>(k)}, values[k]));
  }
  Function f("precedence", {a, b, c, out}, seq(stores));
  std::string source = source_of(f);
  for (const char* line :
       {"out[0] = a - (b - c);", "out[1] = (a + b) * c;", "out[2] = a / (b * c);",
        "out[3] = -(a * -3);", "out[4] = (a & b) | c;",
        "out[5] = (a < b || (b < c && c < a)) ? a << (b + 1) : tm::min(a, 4);"}) {
    EXPECT_TRUE(contains(source, line)) << line << "\n" << source;
  }
  auto entry = compile_for_host(f);
  int64_t x = 7, y = 2, z = 3;
  std::vector<int64_t> result(6, -999);
  void* args[] = {&x, &y, &z, result.data()};
  ASSERT_EQ(entry(args), 0);
  EXPECT_EQ(result, (std::vector<int64_t>{8, 27, 1, 21, 3, 56}));
}

TEST(CpuSemantics, IntegersWrapAtTheirOwnWidth) {
  Var x = tensor("x", i8, 4), y = tensor("y", i8, 4), out = tensor("out", i8, 4);
  Var wide = tensor("wide", i64, 1), i = var("i");
  Stmt body = seq({for_loop(i, 4, store(out, {i}, load(x, {i}) + load(y, {i}))),
                   store(wide, {0}, int_imm(100000) * int_imm(100000))});
  Function f("wrap", {x, y, out, wide}, body);
  std::string source = source_of(f);
  EXPECT_TRUE(contains(source, "out[i] = static_cast<int8_t>(x[i] + y[i]);")) << source;
  EXPECT_TRUE(contains(source, "wide[0] = 100000L * 100000;")) << source;
  auto entry = compile_for_host(f);
  std::vector<int8_t> in_x = {100, -100, 1, 127}, in_y = {100, -100, 2, 1}, result(4, 0);
  int64_t product = 0;
  void* args[] = {in_x.data(), in_y.data(), result.data(), &product};
  ASSERT_EQ(entry(args), 0);
  EXPECT_EQ(result, (std::vector<int8_t>{-56, 56, 3, -128}));
  EXPECT_EQ(product, int64_t{10000000000});
}

TEST(CpuSemantics, FloatLiteralsRoundTrip) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  Var out = tensor("out", f32, 5), out64 = tensor("out64", f64, 2);
  Function f("literals", {out, out64},
             seq({store(out, {0}, float_imm(inf)), store(out, {1}, float_imm(-inf)),
                  store(out, {2}, float_imm(std::nan(""))), store(out, {3}, float_imm(0.1)),
                  store(out, {4}, float_imm(1e-45)), store(out64, {0}, float_imm(0.1, f64)),
                  store(out64, {1}, float_imm(1.0 / 3.0, f64))}));
  std::string source = source_of(f);
  for (const char* line : {"out[0] = __builtin_inff();", "out[1] = -__builtin_inff();",
                           "out[2] = __builtin_nanf(\"\");", "out[3] = 0.1f;", "out64[0] = 0.1;"}) {
    EXPECT_TRUE(contains(source, line)) << line << "\n" << source;
  }
  auto entry = compile_for_host(f);
  std::vector<float> result(5, 0.0f);
  std::vector<double> result64(2, 0.0);
  void* args[] = {result.data(), result64.data()};
  ASSERT_EQ(entry(args), 0);
  EXPECT_EQ(result[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(result[1], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(result[2]));
  EXPECT_EQ(result[3], 0.1f);
  EXPECT_EQ(result[4], 1e-45f);
  EXPECT_EQ(result64[0], 0.1);
  EXPECT_EQ(result64[1], 1.0 / 3.0);
}

TEST(CpuSemantics, NamesBecomeValidUniqueIdentifiers) {
  Var out = tensor("float", f32, 4), i = var("int"), j = var("int"), k = var("2 x");
  Var t = var("tm_x", f32), e = var("logf", f32);
  Stmt body =
      for_loop(i, 2,
               for_loop(j, 2,
                        let_stmt(k, i * 2 + j,
                                 seq({declare(t, float_imm(1.5)), declare(e, t + float_imm(1.0)),
                                      store(out, {k}, call("exp", {float_imm(0.0)}) + e)}))));
  Function f("names", {out}, body);
  std::string source = source_of(f);
  EXPECT_TRUE(contains(source, "float* __restrict__ float_1")) << source;
  EXPECT_TRUE(contains(source, "for (int64_t int_1 = 0;")) << source;
  EXPECT_TRUE(contains(source, "for (int64_t int_2 = 0;")) << "nested: both visible\n" << source;
  EXPECT_TRUE(contains(source, "const int64_t v_2_x = int_1 * 2 + int_2;")) << source;
  EXPECT_TRUE(contains(source, "float v_tm_x = 1.5f;")) << source;
  EXPECT_TRUE(contains(source, "float logf_1 = v_tm_x + 1.0f;")) << source;
  auto entry = compile_for_host(f);
  std::vector<float> result(4, 0.0f);
  void* args[] = {result.data()};
  ASSERT_EQ(entry(args), 0);
  EXPECT_EQ(result, std::vector<float>(4, 3.5f));
}

// bf16 of a float, rounded to nearest-even (the reference for the generated tm_bf16).
float round_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

TEST(CpuSemantics, HalfAndBfloat16) {
  constexpr int64_t n = 64;
  Var in = tensor("in", f32, n), half = tensor("half", f16, n), brain = tensor("brain", bf16, n);
  Var sum = tensor("sum", f32, n), i = var("i");
  Expr b = cast(bf16, load(in, {i}));
  Stmt body =
      for_loop(i, n,
               seq({store(half, {i}, cast(f16, load(in, {i})) * cast(f16, float_imm(2.0))),
                    store(brain, {i}, call("exp", {b})), store(sum, {i}, cast(f32, b + b))}));
  Function f("halves", {in, half, brain, sum}, body);
  std::string source = source_of(f);
  EXPECT_TRUE(contains(source, "struct tm_bf16 {")) << source;
  EXPECT_TRUE(contains(source, "_Float16* __restrict__ half")) << source;
  EXPECT_TRUE(contains(source, "brain[i] = static_cast<tm_bf16>(tm::exp_f32(static_cast<float>("))
      << source;
  auto entry = compile_for_host(f);
  std::vector<float> x = random_floats(n, -2.0f, 2.0f), sums(n, NAN);
  std::vector<_Float16> halves(n);
  std::vector<uint16_t> brains(n);
  void* args[] = {x.data(), halves.data(), brains.data(), sums.data()};
  ASSERT_EQ(entry(args), 0);
  for (int64_t k = 0; k < n; ++k) {
    EXPECT_EQ(static_cast<float>(halves[k]), static_cast<float>(static_cast<_Float16>(x[k]) * 2))
        << k;
    float rounded = round_to_bf16(x[k]);
    EXPECT_EQ(sums[k], round_to_bf16(rounded + rounded)) << k;
    uint32_t bits = static_cast<uint32_t>(brains[k]) << 16;
    float e;
    std::memcpy(&e, &bits, 4);
    EXPECT_EQ(e, round_to_bf16(std::exp(rounded))) << k;
  }
}

TEST(CpuSemantics, MathPrimitivesAndVectorReductions) {
  DType f32x8 = f32.with_lanes(8);
  Var x = tensor("x", f32, 8), ints = tensor("ints", i32, 8), out = tensor("out", f32, 8);
  Var iout = tensor("iout", i32, 8), nan = tensor("nan", boolean, 8);
  Var sums = tensor("sums", f32, 2), i = var("i");
  Expr v = load(x, {i});
  Expr vx = call("vec_load", {address(x, {0})}, f32x8);
  Stmt loop = for_loop(
      i, 8,
      seq({store(out, {i},
                 call("round", {v}) + call("rsqrt", {call("abs", {v})}) +
                     call("pow", {v, float_imm(2.0)}) + binary(BinaryOp::mod, v, float_imm(1.5))),
           store(iout, {i}, call("abs", {load(ints, {i})})),
           store(nan, {i}, call("isnan", {cast(f16, v)}, boolean))}));
  Stmt reduce = seq({store(sums, {0}, call("vec_reduce_add", {call("exp", {vx})}, f32)),
                     store(sums, {1}, call("vec_reduce_max", {vx}, f32))});
  Function f("math", {x, ints, out, iout, nan, sums}, seq({loop, reduce}));
  std::string source = source_of(f);
  EXPECT_TRUE(contains(source, "nearbyintf(x[i]) + tm::rsqrt(fabsf(x[i])) + powf(x[i], 2.0f) +"))
      << source;
  EXPECT_TRUE(contains(source, "fmodf(x[i], 1.5f)")) << source;
  EXPECT_TRUE(contains(source, "iout[i] = tm::abs(ints[i]);")) << source;
  EXPECT_TRUE(contains(source, "std::isnan(static_cast<float>(static_cast<_Float16>(x[i])))"))
      << source;
  EXPECT_TRUE(contains(source, "tm::lanewise(tm::vec_load<tm_f32x8>(&x[0]),")) << source;
  EXPECT_TRUE(contains(source, "[](float a) { return tm::exp_f32(a); })")) << source;
  auto entry = compile_for_host(f);
  std::vector<float> in = {0.5f, 1.5f, 2.5f, -2.5f, -0.7f, 3.25f, NAN, 4.0f};
  std::vector<int32_t> in_ints = {-3, 3, 0, -7, 7, -1, 1, -100};
  std::vector<float> result(8, 0.0f), reduced(2, 0.0f);
  std::vector<int32_t> abs_ints(8, 0);
  bool nans[8] = {};
  void* args[] = {in.data(), in_ints.data(), result.data(), abs_ints.data(), nans, reduced.data()};
  ASSERT_EQ(entry(args), 0);
  for (int k = 0; k < 8; ++k) {
    // round is half to even: 2.5 -> 2 and -2.5 -> -2 (roundf would give 3 and -3).
    float e = std::nearbyint(in[k]) + 1.0f / std::sqrt(std::fabs(in[k])) + std::pow(in[k], 2.0f) +
              std::fmod(in[k], 1.5f);
    if (std::isnan(in[k])) {
      EXPECT_TRUE(std::isnan(result[k]));
    } else {
      EXPECT_FLOAT_EQ(result[k], e) << k;
    }
    EXPECT_EQ(abs_ints[k], std::abs(in_ints[k]));
    EXPECT_EQ(nans[k], std::isnan(in[k])) << k;
  }
  EXPECT_TRUE(std::isnan(reduced[0]));
  EXPECT_TRUE(std::isnan(reduced[1])) << "the max of lanes with a NaN is NaN";
}

TEST(CpuSemantics, HeapTemporaryAndAssertion) {
  Var n = var("n"), out = tensor("out", f32, 64), tmp = tensor("tmp", f32, 64), i = var("i");
  Var j = var("i");
  Stmt body =
      seq({assert_stmt(n <= 64, "n must be at most 64"), declare(tmp, {}, StorageScope::heap),
           for_loop(i, n, store(tmp, {i}, cast(f32, i))),
           for_loop(j, n, store(out, {j}, load(tmp, {j}) * float_imm(2.0)))});
  Function f("heap", {n, out}, body);
  std::string source = source_of(f);
  EXPECT_TRUE(
      contains(source, "if (!(n <= 64)) return tm::fail(\"kernel heap: n must be at most 64\");"))
      << source;
  EXPECT_TRUE(contains(source, "tm::HeapArray<float> tmp(64);")) << source;
  auto entry = compile_for_host(f);
  auto library = last_library();
  std::vector<float> result(64, NAN);
  int64_t count = 64;
  void* args[] = {&count, result.data()};
  ASSERT_EQ(entry(args), 0);
  EXPECT_EQ(library->last_error(), "");
  for (int k = 0; k < 64; ++k) EXPECT_EQ(result[k], 2.0f * k);
  count = 65;
  EXPECT_EQ(entry(args), 1);
  EXPECT_EQ(library->last_error(), "kernel heap: n must be at most 64");
}

TEST(CpuSemantics, IfElseChainsAndDeviceFunctions) {
  Var x = tensor("x", f32, 16), out = tensor("out", f32, 16), i = var("i");
  Expr v = load(x, {i});
  Stmt chain = if_then_else(
      v < float_imm(0.0), store(out, {i}, float_imm(-1.0)),
      if_then_else(v < float_imm(1.0), store(out, {i}, v), store(out, {i}, float_imm(1.0))));
  Function kernel("clip", {x, out}, for_loop(i, 16, chain));
  Var y = var("y", f32);
  Function helper("square", {y}, return_stmt(y * y), FunctionKind::device, f32);
  std::string source = generate_cpu_source(Module{"m", {kernel, helper}}, fixed_target());
  EXPECT_TRUE(contains(source,
                       "    if (x[i] < 0.0f) {\n      out[i] = -1.0f;\n    } else if (x[i] < "
                       "1.0f) {\n      out[i] = x[i];\n    } else {\n      out[i] = 1.0f;\n"
                       "    }\n"))
      << source;
  EXPECT_TRUE(contains(source, "static inline float square(float y) {\n  return y * y;\n}"))
      << source;
  EXPECT_LT(source.find("square("), source.find("clip(")) << "device functions come first";
  EXPECT_FALSE(contains(source, "taskmap_entry_square")) << source;
}

TEST(CpuSemantics, UnloweredIrIsAnInternalError) {
  Var grid = var("grid", Type::tensor(f32, {4, 4})), w = var("w");
  Function two_indices("two", {grid}, store(grid, {1, 2}, float_imm(0.0)));
  try {
    source_of(two_indices);
    FAIL() << "expected an InternalError";
  } catch (const InternalError& e) {
    EXPECT_TRUE(contains(e.what(), "Store with 2 indices")) << e.what();
    EXPECT_TRUE(contains(e.what(), "flatten")) << e.what();
  }
  Var line = tensor("line", f32, 4);
  Function mapped(
      "mapped", {line},
      for_mapping({w}, TaskMapping::spatial({4}), int_imm(0), store(line, {w}, float_imm(0.0))));
  try {
    source_of(mapped);
    FAIL() << "expected an InternalError";
  } catch (const InternalError& e) {
    EXPECT_TRUE(contains(e.what(), "ForMapping")) << e.what();
  }
}

// The branch-free f32 exp / tanh / erf / sigmoid of the prelude (they replace libm so loops
// vectorize) against double-precision libm: within 2 ulp-ish relative error on a dense sweep
// and exact on the special values.
TEST(CpuSemantics, VectorizableMathMatchesLibm) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 100.0f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, -3e-5f, 0.39999f, 0.4f, 0.49999f, 0.5f,
                  8.999f, 9.0f, 87.0f, 88.6f, 88.8f, -87.2f, -87.4f, -103.0f})
    x.push_back(v);
  for (float v : {INFINITY, -INFINITY, NAN}) x.push_back(v);
  x.push_back(random_floats(1)[0]);
  const int64_t n = static_cast<int64_t>(x.size());
  const char* names[] = {"exp", "tanh", "erf", "sigmoid"};
  Var in = tensor("in", f32, n), i = var("i");
  std::vector<Var> outs;
  std::vector<Stmt> stores;
  for (const char* name : names) {
    outs.push_back(tensor(std::string("out_") + name, f32, n));
    stores.push_back(store(outs.back(), {i}, call(name, {load(in, {i})})));
  }
  std::vector<Var> params = {in};
  params.insert(params.end(), outs.begin(), outs.end());
  Function f("math", params, for_loop(i, n, seq(stores), LoopHint::vectorize()));
  auto entry = compile_for_host(f);
  std::vector<std::vector<float>> results(4, std::vector<float>(n, 1234.5f));
  void* args[] = {x.data(), results[0].data(), results[1].data(), results[2].data(),
                  results[3].data()};
  ASSERT_EQ(entry(args), 0);
  auto reference = [](int which, double v) {
    switch (which) {
      case 0:
        return std::exp(v);
      case 1:
        return std::tanh(v);
      case 2:
        return std::erf(v);
      default:
        return 1.0 / (1.0 + std::exp(-v));
    }
  };
  for (int which = 0; which < 4; ++which) {
    for (int64_t k = 0; k < n; ++k) {
      double expected = reference(which, x[k]);
      if (std::abs(expected) > FLT_MAX) expected = std::copysign(INFINITY, expected);
      float actual = results[which][k];
      if (std::isinf(expected)) {
        EXPECT_EQ(actual, expected) << names[which] << "(" << x[k] << ")";
        continue;
      }
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << names[which] << "(" << x[k] << ")";
        continue;
      }
      // Results that f32 cannot hold (tiny exps) count by absolute error.
      double tolerance = std::max(3e-7 * std::abs(expected), 1e-37);
      if (which == 2) tolerance = std::max(tolerance, 4e-7);  // erf: a rational fit, 3.5e-7
      EXPECT_LE(std::abs(actual - expected), tolerance)
          << names[which] << "(" << x[k] << ") = " << actual << ", libm says " << expected;
    }
  }
}

}  // namespace
}  // namespace taskmap::codegen
