// The CUDA primitives beyond the SIMT basics, one small kernel each, run on the host emulator
// against what the PTX ISA says they compute, and compiled by NVRTC for sm_80 / sm_90 without
// warnings: cp.async with zero fill, ldmatrix (x2, plain and transposed), mma.sync with tf32
// (the f16 / bf16 forms are checked through the tensor-core matmul template), and 16-byte
// vector loads and stores. Older targets refuse them by name.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "cuda_build/host_cuda_support.h"
#include "ops/ops_support.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/codegen/cuda_codegen.h"
#include "taskmap/error.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/passes/pipeline.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::testing {
namespace {
using namespace ir;

const CudaTarget kTarget = CudaTarget::parse("cuda:sm_90");

// The thread index as a variable, below `threads` (so that indices over it are bounded).
void for_threads(lang::KernelBuilder& kb, int64_t threads,
                 const std::function<void(const Var&)>& body) {
  kb.attr("cuda.block_dim", std::to_string(threads));
  kb.attr("cuda.grid_dim", "1");
  kb.let("t", cast(i64, call("thread_idx_x", {}, Type(i32))),
         [&](const Var& t) { kb.if_then(t < threads, [&] { body(t); }); });
}

// Two 8 × 8 f16 matrices copied into shared memory by cp.async (rows 6 and 7 of each with
// src_bytes 0, so zero-filled), then loaded by ldmatrix.x2 plain and transposed.
Function ldmatrix_kernel() {
  lang::KernelBuilder kb("ldmatrix_probe");
  const Var x = kb.param("x", Type::tensor(f16, {2, 8, 8}));
  const Var plain = kb.param("plain", Type::tensor(f16, {32, 4}));
  const Var trans = kb.param("trans", Type::tensor(f16, {32, 4}));
  for_threads(kb, 32, [&](const Var& t) {
    const Var s = kb.shared_tensor("s", f16, {2, 8, 8});
    const Var regs = kb.register_tensor("regs", f16, Layout::row_major({4}));
    kb.if_then(t < 16, [&] {
      const Expr m = t / 8, r = t % 8;
      kb.evaluate(
          call("cp_async_16", {address(s, {m, r, int_imm(0)}), address(x, {m, r, int_imm(0)}),
                               select(r < 6, int_imm(16, i32), int_imm(0, i32))}));
    });
    kb.evaluate(call("cp_async_commit", {}));
    kb.evaluate(call("cp_async_wait", {int_imm(0, i32)}));
    kb.evaluate(call("sync_threads", {}));
    // Lanes 0-15 name the rows (16-31 repeat them: their addresses are not read).
    const Expr row = address(s, {t % 16 / 8, t % 8, int_imm(0)});
    for (const auto& [out, transposed] : {std::pair{plain, 0}, std::pair{trans, 1}}) {
      kb.evaluate(call("ldmatrix", {address(regs, {int_imm(0)}), row, int_imm(2, i32),
                                    int_imm(transposed, i32)}));
      for (int64_t e = 0; e < 4; ++e) kb.store(out, {t, int_imm(e)}, load(regs, {int_imm(e)}));
    }
  });
  return kb.build();
}

// One m16n8k8 tf32 product: fragments loaded as the PTX ISA lays them out, D stored likewise.
Function mma_tf32_kernel() {
  lang::KernelBuilder kb("mma_tf32_probe");
  const Var a = kb.param("a", Type::tensor(f32, {16, 8}));
  const Var b = kb.param("b", Type::tensor(f32, {8, 8}));
  const Var d = kb.param("d", Type::tensor(f32, {16, 8}));
  for_threads(kb, 32, [&](const Var& t) {
    const Var a_frag = kb.register_tensor("a_frag", f32, Layout::row_major({4}));
    const Var b_frag = kb.register_tensor("b_frag", f32, Layout::row_major({2}));
    const Var acc = kb.register_tensor("acc", f32, Layout::row_major({4}));
    const Expr g = t / 4, q = t % 4;
    for (int64_t i = 0; i < 4; ++i) {
      kb.store(a_frag, {int_imm(i)}, load(a, {g + 8 * (i % 2), q + 4 * (i / 2)}));
      kb.store(acc, {int_imm(i)}, float_imm(0.0));
    }
    for (int64_t i = 0; i < 2; ++i) kb.store(b_frag, {int_imm(i)}, load(b, {q + 4 * i, g}));
    const Expr c = address(acc, {int_imm(0)});
    kb.evaluate(
        call("mma_sync", {c, address(a_frag, {int_imm(0)}), address(b_frag, {int_imm(0)}), c}));
    for (int64_t i = 0; i < 4; ++i)
      kb.store(d, {g + 8 * (i / 2), q * 2 + i % 2}, load(acc, {int_imm(i)}));
  });
  return kb.build();
}

// Each of 8 threads moves 16 bytes of f16 and of f32 with one vector load and store, and keeps
// lane 3 of its f16 vector.
Function vector_copy_kernel() {
  lang::KernelBuilder kb("vector_copy");
  const Var x = kb.param("x", Type::tensor(f16, {64}));
  const Var y = kb.param("y", Type::tensor(f32, {32}));
  const Var x_out = kb.param("x_out", Type::tensor(f16, {64}));
  const Var y_out = kb.param("y_out", Type::tensor(f32, {32}));
  const Var lane3 = kb.param("lane3", Type::tensor(f16, {8}));
  for_threads(kb, 8, [&](const Var& t) {
    kb.let("h", call("vec_load", {address(x, {t * 8})}, Type(f16.with_lanes(8))),
           [&](const Var& h) {
             kb.evaluate(call("vec_store", {address(x_out, {t * 8}), h}));
             kb.store(lane3, {t}, call("vec_extract", {h, int_imm(3, i32)}, Type(f16)));
           });
    kb.let("v", call("vec_load", {address(y, {t * 4})}, Type(f32.with_lanes(4))),
           [&](const Var& v) {
             kb.evaluate(call("vec_store", {address(y_out, {t * 4}), v}));
           });
  });
  return kb.build();
}

NDArray random_array_of(DType dtype, const std::vector<int64_t>& shape) {
  NDArray out(dtype, shape);
  const std::vector<float> values = random_data(out.numel());
  for (int64_t i = 0; i < out.numel(); ++i) out.set_double(i, values[i]);
  return out;
}

NDArray poisoned_array(DType dtype, const std::vector<int64_t>& shape) {
  NDArray out(dtype, shape);
  for (int64_t i = 0; i < out.numel(); ++i) out.set_double(i, std::nan(""));
  return out;
}

TEST(PtxPrimitives, CpAsyncZeroFillsAndLdmatrixDealsRowsAndColumns) {
  NDArray x = random_array_of(f16, {2, 8, 8});
  NDArray plain = poisoned_array(f16, {32, 4}), trans = poisoned_array(f16, {32, 4});
  run_cuda_on_host(Module{"ldmatrix_probe", {ldmatrix_kernel()}}, kTarget,
                   {x.raw(), plain.raw(), trans.raw()});
  // Shared memory holds x with rows 6 and 7 of each matrix zero.
  auto shared = [&](int64_t m, int64_t r, int64_t c) {
    return r < 6 ? x.get_double((m * 8 + r) * 8 + c) : 0.0;
  };
  for (int64_t l = 0; l < 32; ++l) {
    for (int64_t j = 0; j < 2; ++j) {    // register j: matrix j
      for (int64_t e = 0; e < 2; ++e) {  // its two elements
        SCOPED_TRACE("lane " + std::to_string(l) + " register " + std::to_string(j));
        const int64_t flat = l * 4 + j * 2 + e;
        EXPECT_EQ(plain.get_double(flat), shared(j, l / 4, 2 * (l % 4) + e));
        EXPECT_EQ(trans.get_double(flat), shared(j, 2 * (l % 4) + e, l / 4));
      }
    }
  }
}

// cvt.rna.tf32.f32 keeps 10 mantissa bits, rounding to nearest with ties away from zero.
double to_tf32(float x) {
  return std::bit_cast<float>((std::bit_cast<uint32_t>(x) + 0x1000u) & 0xffffe000u);
}

TEST(PtxPrimitives, MmaTf32MultipliesFragmentsRoundedToTf32) {
  NDArray a = random_array_of(f32, {16, 8}), b = random_array_of(f32, {8, 8});
  NDArray d = poisoned_array(f32, {16, 8});
  run_cuda_on_host(Module{"mma_tf32_probe", {mma_tf32_kernel()}}, kTarget,
                   {a.raw(), b.raw(), d.raw()});
  std::vector<float> actual;
  std::vector<double> expected, exact;
  for (int64_t r = 0; r < 16; ++r) {
    for (int64_t c = 0; c < 8; ++c) {
      double sum = 0, exact_sum = 0;
      for (int64_t k = 0; k < 8; ++k) {
        sum += to_tf32(a.data<float>()[r * 8 + k]) * to_tf32(b.data<float>()[k * 8 + c]);
        exact_sum += a.get_double(r * 8 + k) * b.get_double(k * 8 + c);
      }
      actual.push_back(d.data<float>()[r * 8 + c]);
      expected.push_back(sum);
      exact.push_back(exact_sum);
    }
  }
  expect_close(actual, expected, "tf32 mma", 1e-6);
  // The rounding is real: full-precision products differ beyond f32 rounding somewhere.
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, std::abs(actual[i] - exact[i]));
  EXPECT_GT(worst, 1e-5);
}

TEST(PtxPrimitives, VectorLoadsAndStoresMoveSixteenBytes) {
  NDArray x = random_array_of(f16, {64}), y = random_array_of(f32, {32});
  NDArray x_out = poisoned_array(f16, {64}), y_out = poisoned_array(f32, {32});
  NDArray lane3 = poisoned_array(f16, {8});
  run_cuda_on_host(Module{"vector_copy", {vector_copy_kernel()}}, kTarget,
                   {x.raw(), y.raw(), x_out.raw(), y_out.raw(), lane3.raw()});
  EXPECT_EQ(std::memcmp(x.raw(), x_out.raw(), x.nbytes()), 0);
  EXPECT_EQ(std::memcmp(y.raw(), y_out.raw(), y.nbytes()), 0);
  for (int64_t t = 0; t < 8; ++t) EXPECT_EQ(lane3.get_double(t), x.get_double(t * 8 + 3));
}

TEST(PtxPrimitives, CompileForSm80AndSm90WithoutWarnings) {
  std::string why_not;
  if (!build::nvrtc_available(&why_not)) GTEST_SKIP() << why_not;
  std::vector<build::CudaCompileJob> jobs;
  for (const Function& f : {ldmatrix_kernel(), mma_tf32_kernel(), vector_copy_kernel()}) {
    const codegen::CudaSource source =
        codegen::generate_cuda_source(passes::lower(Module{f->name, {f}}), kTarget);
    jobs.push_back({f->name, source.text});
  }
  EXPECT_NE(jobs[0].source.find("ldmatrix_x2_trans"), std::string::npos);
  EXPECT_NE(jobs[2].source.find("tm::vec<__half, 8>"), std::string::npos);
  expect_cubins_without_warnings(jobs);
}

TEST(PtxPrimitives, TargetsBeforeSm80RefuseThem) {
  const Function f = mma_tf32_kernel();
  try {
    codegen::generate_cuda_source(passes::lower(Module{f->name, {f}}),
                                  CudaTarget::parse("cuda:sm_75"));
    FAIL() << "sm_75 printed mma.sync";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("needs sm_80"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taskmap::testing
