// The packed GEMM template (schedules/gemm_cpu.h) against double-precision references on fresh
// random data: ragged shapes, batches, epilogues, both orientations and pre-packed operands.
#include <cmath>

#include "ops/ops_support.h"
#include "taskmap/error.h"
#include "taskmap/ir/printer.h"
#include "taskmap/schedules/gemm_cpu.h"
#include "taskmap/target.h"

namespace taskmap::testing {
namespace {

using namespace ir;

struct Problem {
  int64_t batch, m, n, k;
  std::string str() const {
    return std::to_string(batch) + "x" + std::to_string(m) + "x" + std::to_string(n) + "x" +
           std::to_string(k);
  }
};

// c[b, i, j] = relu(sum_r a[b, i, r] · w[r, j] + bias[j]): a batched product with a shared
// right operand and an epilogue, the shape of a linear layer.
Task linear_task(const Problem& p) {
  Var a = tensor_input("a", f32, {p.batch, p.m, p.k});
  Var w = tensor_input("w", f32, {p.k, p.n});
  Var bias = tensor_input("bias", f32, {p.n});
  Expr c = compute("c", {p.batch, p.m, p.n}, [&](const Index& o) {
    Expr sum = reduce(ReduceOp::sum, {p.k}, [&](const Index& r) {
      return load(a, {o[0], o[1], r[0]}) * load(w, {r[0], o[2]});
    });
    return max(sum + load(bias, {o[2]}), float_imm(0.0));
  });
  return Task("linear", {a, w, bias}, {c});
}

std::vector<double> linear_reference(const Problem& p, const std::vector<float>& a,
                                     const std::vector<float>& w, const std::vector<float>& bias) {
  std::vector<double> c(static_cast<size_t>(p.batch * p.m * p.n));
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        double sum = bias[j];
        for (int64_t r = 0; r < p.k; ++r)
          sum += double(a[(b * p.m + i) * p.k + r]) * w[r * p.n + j];
        c[(b * p.m + i) * p.n + j] = std::max(sum, 0.0);
      }
  return c;
}

const std::vector<Problem> kProblems = {
    {1, 64, 64, 64},   {1, 7, 200, 9},  {2, 37, 70, 33},  {1, 130, 17, 300},  {3, 5, 129, 64},
    {1, 49, 512, 100}, {1, 300, 40, 8}, {1, 20, 64, 257}, {1, 128, 96, 2501},
};

TEST(Gemm, RecognizesContractionsOnly) {
  Problem p{2, 37, 70, 33};
  auto form = schedules::analyze_gemm(linear_task(p));
  ASSERT_TRUE(form.has_value());
  // The batch axis is read by `a` only, so it folds into M: one GEMM with the shared `w`.
  EXPECT_EQ(form->batch_size, 1);
  EXPECT_EQ(form->m_size, 2 * 37);
  EXPECT_EQ(form->n_size, 70);
  EXPECT_EQ(form->k_size, 33);
  // A max-reduction is not a contraction.
  Var x = tensor_input("x", f32, {32, 64});
  Expr mx = compute("mx", {32}, [&](const Index& i) {
    return reduce(ReduceOp::max, {64}, [&](const Index& r) { return load(x, {i[0], r[0]}); });
  });
  EXPECT_FALSE(schedules::analyze_gemm(Task("rowmax", {x}, {mx})).has_value());
}

TEST(Gemm, TemplateMatchesReference) {
  std::vector<Task> tasks;
  for (const Problem& p : kProblems) tasks.push_back(linear_task(p));
  std::vector<CompiledKernel> kernels = compile_all(tasks);
  int in_place = 0;
  for (size_t t = 0; t < kProblems.size(); ++t) {
    const Problem& p = kProblems[t];
    ASSERT_TRUE(schedules::analyze_gemm(tasks[t]).has_value()) << p.str();
    // The activations are read by the micro-kernel in place, also where the last k block is
    // ragged (K 257 in blocks of 86) and a packed A would have been zero-padded.
    auto plan = schedules::plan_gemm(tasks[t], CpuTarget::host());
    ASSERT_TRUE(plan.has_value()) << p.str();
    in_place += plan->a_in_place;
    std::vector<float> a = random_data(p.batch * p.m * p.k), w = random_data(p.k * p.n),
                       bias = random_data(p.n), c = poisoned(p.batch * p.m * p.n);
    kernels[t]({a.data(), w.data(), bias.data(), c.data()});
    expect_close(c, linear_reference(p, a, w, bias), "gemm " + p.str(), 1e-4);
  }
  EXPECT_GE(in_place, 4) << "too few problems read A in place";
}

// 49 rows (a 7 x 7 image) take register tiles 7 rows tall where AVX-512 has the registers for
// them (21 or 28 accumulators), and 6 elsewhere; both match the reference in the test above.
TEST(Gemm, SevenRowTilesFitFortyNineRows) {
  Task task = linear_task({1, 49, 512, 100});
  for (const CpuTarget& target : {CpuTarget::parse("cpu:avx512"), CpuTarget::parse("cpu:avx2")}) {
    auto plan = schedules::plan_gemm(task, target);
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plan->config.micro_m, target.isa == CpuTarget::Isa::avx512 ? 7 : 6) << target.str();
  }
  // Seven rows take three vectors (21 accumulators: the broadcast keeps a register) where the
  // columns fill 48-wide panels within 5%, 512 in 11 of them; 256 columns (6 panels of 48, an
  // eighth of them idle) keep four.
  const CpuTarget avx512 = CpuTarget::parse("cpu:avx512");
  for (int64_t n : {512, 256}) {
    auto plan = schedules::plan_gemm(linear_task({1, 49, n, 100}), avx512);
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plan->config.micro_m, 7) << n;
    EXPECT_EQ(plan->config.micro_n, n == 512 ? 48 : 64) << n;
  }
}

// With A read in place and B packed ahead, nothing is packed per call, and the k blocks grow
// to what L2 holds (the tile's A rows, a b panel, the c tile) instead of a b panel that fits
// L1; 128 rows take 8 x 48 register tiles (16 whole panels, not 22 of 6). The test above runs
// such a plan (128 x 96 x 2501: two k blocks, the last one ragged).
TEST(Gemm, DeepKBlocksWhereNothingIsPackedPerCall) {
  const CpuTarget target = CpuTarget::parse("cpu:avx512,cores=2,l1d=32k,l2=1m");
  for (const Problem& p : {Problem{1, 128, 768, 3072}, Problem{1, 128, 96, 2501}}) {
    auto plan = schedules::plan_gemm(linear_task(p), target, {false, true, true});
    ASSERT_TRUE(plan.has_value()) << p.str();
    EXPECT_TRUE(plan->a_in_place) << p.str();
    EXPECT_EQ(plan->config.micro_m, 8) << p.str();
    EXPECT_EQ(plan->config.micro_n, 48) << p.str();
    const schedules::GemmTiling& t = plan->tiling;
    EXPECT_GT(t.block_k, 512) << p.str();
    EXPECT_GE(t.padded_k(), p.k) << p.str();
    EXPECT_LT(t.padded_k() - p.k, t.k_blocks) << p.str();
    // What the block keeps in L2: the A rows, one b panel and the c tile.
    EXPECT_LE((t.tile_m + 48) * t.block_k * 4 + t.tile_m * t.tile_n * 4, 1 << 20) << p.str();
  }
  // Few rows against deep weights (ResNet-50's 7 x 7 layers): L2 would hold b panels of 2304
  // steps, but a panel stays within 128 KiB, bounding the stall on the kernel's first (cold)
  // panel.
  const CpuTarget xeon = CpuTarget::parse("cpu:avx512,cores=2,l1d=48k,l2=2m");
  auto few_rows = schedules::plan_gemm(linear_task({1, 49, 512, 4608}), xeon, {false, true, true});
  ASSERT_TRUE(few_rows.has_value());
  EXPECT_GT(few_rows->tiling.block_k, few_rows->config.block_k);
  EXPECT_LE(few_rows->tiling.block_k * few_rows->config.micro_n * 4, 128 * 1024);
  EXPECT_GE(few_rows->tiling.padded_k(), 4608);
  EXPECT_LT(few_rows->tiling.padded_k() - 4608, few_rows->tiling.k_blocks);
  // A kernel long enough to hide a larger first panel (2048^3: 8.6 GFLOP a core) keeps what L2
  // holds.
  auto square = schedules::plan_gemm(linear_task({1, 2048, 2048, 2048}), xeon, {false, true, true});
  ASSERT_TRUE(square.has_value());
  EXPECT_GT(square->tiling.block_k * square->config.micro_n * 4, 128 * 1024);
  // A packed per call keeps blocks whose b panel fits L1.
  auto packed =
      schedules::plan_gemm(linear_task({1, 128, 768, 3072}), target, {true, false, false});
  ASSERT_TRUE(packed.has_value());
  EXPECT_LE(packed->tiling.block_k, 256);
}

// A linear task's kernel as the host plans it, and whether its output runs along the plan's
// columns (the plan is not flipped).
struct PlannedKernel {
  schedules::GemmPlan plan;
  std::string text;
  bool along_n = false;
};
PlannedKernel planned_kernel(const Problem& p) {
  Task task = linear_task(p);
  auto plan = schedules::plan_gemm(task, CpuTarget::host());
  TM_ASSERT(plan.has_value()) << "no gemm plan for " << p.str();
  const schedules::GemmForm& f = plan->form;
  return {*plan, ir::to_string(schedules::gemm_cpu(task, *plan)),
          f.n.back() == static_cast<int>(f.axes.size()) - 1};
}

// Where the output runs along the columns (one n axis), the last k block applies the epilogue to
// the accumulators in registers: the kernel reads their lanes (vec_extract) instead of a pass over
// the c tile afterwards; a flipped plan, whose output runs along the rows, keeps that pass.
TEST(Gemm, EpilogueFinishesTheAccumulatorsInRegisters) {
  int direct = 0;
  for (const Problem& p : kProblems) {
    PlannedKernel k = planned_kernel(p);
    EXPECT_EQ(count_of(k.text, "vec_extract<") > 0, k.along_n) << p.str();
    direct += k.along_n;
  }
  EXPECT_GE(direct, 4) << "too few problems finish in registers";
}

// The micro-kernel asks for its output lines ahead of the epilogue: one per output vector
// (MR rows × NR / lanes) where the output runs along the columns, one per column where a flipped
// plan has it run along the rows. Not where the epilogue finishes in registers after a last
// k block of fewer than 64 steps: the hints would come too late to help.
TEST(Gemm, MicroKernelPrefetchesItsOutputLines) {
  int hinted = 0;
  for (const Problem& p : kProblems) {
    PlannedKernel k = planned_kernel(p);
    const int64_t hints = count_of(k.text, "prefetch_write(");
    if (k.along_n && k.plan.tiling.block_k < 64) {
      EXPECT_EQ(hints, 0) << p.str();
      continue;
    }
    const schedules::GemmConfig& c = k.plan.config;
    const int64_t per_micro_kernel = k.along_n ? c.micro_m * c.micro_n / c.lanes : c.micro_n;
    // A ragged last k block read in place has a micro-kernel of its own.
    EXPECT_TRUE(hints > 0 && hints % per_micro_kernel == 0)
        << p.str() << ": " << hints << " hints, " << per_micro_kernel << " per micro-kernel";
    ++hinted;
  }
  EXPECT_GE(hinted, 3);
}

// The micro-kernel's k loop runs its steps four at a time (an unrolled inner loop of 4), so
// that the loop's own scalar work does not take FMA issue slots once per step; the rest of a
// block that four does not divide (K 9 in one block, 257 in blocks of 86) runs step by step.
TEST(Gemm, MicroKernelStepsComeInFours) {
  int unrolled = 0;
  for (const Problem& p : kProblems) {
    PlannedKernel k = planned_kernel(p);
    const int64_t fours = count_of(k.text, "in range(4) unroll");
    EXPECT_EQ(fours > 0, k.plan.tiling.block_k >= 8) << p.str() << "\n" << k.text;
    unrolled += fours > 0;
  }
  EXPECT_GE(unrolled, 6);
}

// Weights packed ahead: each k step asks for a line of the next b panel (into L2), so that the
// first a panel against it does not wait for memory. B packed per call (just written, in cache)
// takes no such hint, and neither does a problem of a single b panel and k block.
TEST(Gemm, PrepackedWeightsPrefetchTheNextPanel) {
  int hinted = 0;
  for (const Problem& p : kProblems) {
    Task task = linear_task(p);
    auto plan = schedules::plan_gemm(task, CpuTarget::host());
    ASSERT_TRUE(plan.has_value()) << p.str();
    EXPECT_EQ(count_of(ir::to_string(schedules::gemm_cpu(task, *plan)), "prefetch_read("), 0)
        << p.str();
    plan->b_packed = true;
    const std::string text = ir::to_string(schedules::gemm_cpu(task, *plan));
    const schedules::GemmTiling& t = plan->tiling;
    const int64_t panels = t.tiles_n * (t.tile_n / plan->config.micro_n) * t.k_blocks;
    const int64_t hints = count_of(text, "prefetch_read(&b_packed[");
    EXPECT_EQ(hints > 0, panels > 1)
        << p.str() << ": " << hints << " hints, " << panels << " panels";
    hinted += hints > 0;
  }
  EXPECT_GE(hinted, 3);
}

// Both operands packed ahead of time by the pack tasks, as the model compiler does for weights.
TEST(Gemm, PrepackedOperandsMatchReference) {
  const CpuTarget target = CpuTarget::host();
  std::vector<Function> kernels;
  std::vector<schedules::GemmPlan> plans;
  std::vector<Task> tasks;
  for (const Problem& p : kProblems) {
    if (p.batch != 1) continue;
    Task task = tasks.emplace_back(linear_task(p));
    auto plan = schedules::plan_gemm(task, target);
    ASSERT_TRUE(plan.has_value()) << p.str();
    plan->a_packed = plan->b_packed = true;
    kernels.push_back(schedules::gemm_cpu(task, *plan));
    kernels.push_back(implement_cpu(schedules::gemm_pack_task(task, *plan, 0), target));
    kernels.push_back(implement_cpu(schedules::gemm_pack_task(task, *plan, 1), target));
    plans.push_back(*plan);
  }
  std::vector<CompiledKernel> compiled = compile_kernels(kernels);
  size_t next = 0;
  for (const Problem& p : kProblems) {
    if (p.batch != 1) continue;
    const schedules::GemmPlan& plan = plans[next / 3];
    const Task& task = tasks[next / 3];
    std::vector<float> a = random_data(p.m * p.k), w = random_data(p.k * p.n),
                       bias = random_data(p.n), c = poisoned(p.m * p.n);
    // Each pack task reads exactly the inputs its factor reads, in task order.
    std::vector<std::vector<float>> packed;
    for (int side : {0, 1}) {
      std::vector<void*> args;
      std::vector<float>* inputs[] = {&a, &w, &bias};
      for (int i : schedules::gemm_factor_inputs(task, plan, side))
        args.push_back(inputs[i]->data());
      Task pack = schedules::gemm_pack_task(task, plan, side);
      packed.push_back(poisoned(numel(pack.outputs()[0].type().shape())));
      args.push_back(packed.back().data());
      compiled[next + 1 + side](args);
    }
    compiled[next]({a.data(), w.data(), bias.data(), c.data(), packed[0].data(), packed[1].data()});
    expect_close(c, linear_reference(p, a, w, bias), "prepacked gemm " + p.str(), 1e-4);
    next += 3;
  }
}

// On a target without AVX-512 the template takes 8-lane vectors and a 6 × 16 register tile
// (16 vector registers); the machine running the test may have more, which is fine.
TEST(Gemm, Avx2VariantMatchesReference) {
  CompileOptions options;
  options.target = CpuTarget::parse("cpu:avx2");
  std::vector<Function> kernels;
  std::vector<Task> tasks;
  for (const Problem& p : kProblems) {
    tasks.push_back(linear_task(p));
    auto plan = schedules::plan_gemm(tasks.back(), options.target);
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plan->config.lanes, 8);
    EXPECT_EQ(plan->config.micro_n, 16);
    kernels.push_back(schedules::gemm_cpu(tasks.back(), *plan));
  }
  std::vector<CompiledKernel> compiled = compile_kernels(kernels, options);
  for (size_t t = 0; t < kProblems.size(); ++t) {
    const Problem& p = kProblems[t];
    std::vector<float> a = random_data(p.batch * p.m * p.k), w = random_data(p.k * p.n),
                       bias = random_data(p.n), c = poisoned(p.batch * p.m * p.n);
    compiled[t]({a.data(), w.data(), bias.data(), c.data()});
    expect_close(c, linear_reference(p, a, w, bias), "avx2 gemm " + p.str(), 1e-4);
  }
}

// Both operands batched (attention's Q·Kᵀ): the batch stays a batch, and Kᵀ is read transposed.
TEST(Gemm, BatchedTransposedProductMatchesReference) {
  const int64_t batch = 3, m = 45, n = 70, k = 24;
  Var q = tensor_input("q", f32, {batch, m, k});
  Var kt = tensor_input("k", f32, {batch, n, k});
  Expr s = compute("s", {batch, m, n}, [&](const Index& o) {
    return reduce(ReduceOp::sum, {k},
                  [&](const Index& r) {
                    return load(q, {o[0], o[1], r[0]}) * load(kt, {o[0], o[2], r[0]});
                  }) *
           float_imm(0.125);
  });
  Task task("scores", {q, kt}, {s});
  auto form = schedules::analyze_gemm(task);
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->batch_size, batch);
  // With Kᵀ constant (a Winograd GEMM's transformed weights are batched so), it is packed
  // ahead, batch by batch, and the kernel reads each tile's batch of the packed operand.
  const CpuTarget target = CpuTarget::host();
  auto plan = schedules::plan_gemm(task, target, {false, true});
  ASSERT_TRUE(plan.has_value());
  ASSERT_TRUE(schedules::gemm_factor_constant(task, *plan, 1, {false, true}));
  EXPECT_FALSE(schedules::gemm_factor_constant(task, *plan, 0, {false, true}));
  plan->b_packed = true;
  Task pack = schedules::gemm_pack_task(task, *plan, 1);
  EXPECT_EQ(pack.outputs()[0].type().shape()[0], batch);
  // After a batch's last panel the hints ask for the next batch's first one.
  const std::string text = ir::to_string(schedules::gemm_cpu(task, *plan));
  EXPECT_NE(text.find("bt + 1"), std::string::npos) << text;
  std::vector<CompiledKernel> compiled = compile_kernels(
      {schedules::gemm_cpu(task, *plan), implement_cpu(pack, target), implement_cpu(task, target)});
  std::vector<float> a = random_data(batch * m * k), b = random_data(batch * n * k),
                     c = poisoned(batch * m * n), c_packed = poisoned(batch * m * n),
                     packed = poisoned(numel(pack.outputs()[0].type().shape()));
  compiled[2]({a.data(), b.data(), c.data()});
  compiled[1]({b.data(), packed.data()});
  compiled[0]({a.data(), b.data(), c_packed.data(), packed.data()});
  std::vector<double> expected(c.size());
  for (int64_t t = 0; t < batch; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t r = 0; r < k; ++r)
          sum += double(a[(t * m + i) * k + r]) * b[(t * n + j) * k + r];
        expected[(t * m + i) * n + j] = sum * 0.125;
      }
  expect_close(c, expected, "batched q·kT", 1e-4);
  expect_close(c_packed, expected, "batched q·kT, kT packed ahead", 1e-4);
}

}  // namespace
}  // namespace taskmap::testing
