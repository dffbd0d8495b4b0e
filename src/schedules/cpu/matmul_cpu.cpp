#include "taskmap/schedules/matmul_cpu.h"

#include "taskmap/ir/equality.h"

#include "taskmap/error.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

std::string MatmulConfig::str() const {
  return "block " + std::to_string(block_m) + "x" + std::to_string(block_n) + ", micro " +
         std::to_string(micro_m) + "x" + std::to_string(micro_n);
}

Task matmul_task(int64_t m, int64_t n, int64_t k, DType dtype) {
  Var a = tensor_input("a", dtype, {m, k});
  Var b = tensor_input("b", dtype, {k, n});
  Expr c = compute("c", {m, n}, [&](const Index& ij) {
    return reduce(ReduceOp::sum, {k}, [&](const Index& r) {
      return load(a, {ij[0], r[0]}) * load(b, {r[0], ij[1]});
    });
  });
  return Task("matmul", {a, b}, {c}, {{"op", "matmul"}});
}

bool is_matmul_task(const Task& task) {
  if (task.inputs().size() != 2 || task.outputs().size() != 1) return false;
  auto it = task.attrs().find("op");
  if (it != task.attrs().end() && it->second == "matmul") return true;
  // A task written by someone else (the MatMul operator) matches when its output is, node for
  // node, the canonical compute over its own inputs.
  const Var& a = task.inputs()[0];
  const Var& b = task.inputs()[1];
  const auto& as = a.type().shape();
  const auto& bs = b.type().shape();
  if (as.size() != 2 || bs.size() != 2 || as[1] != bs[0] || a.dtype() != f32 || b.dtype() != f32)
    return false;
  const auto* out = task.outputs()[0].as<ComputeNode>();
  if (out == nullptr) return false;
  Expr reference = compute(out->name, {as[0], bs[1]}, [&](const Index& ij) {
    return reduce(ReduceOp::sum, {as[1]}, [&](const Index& r) {
      return load(a, {ij[0], r[0]}) * load(b, {r[0], ij[1]});
    });
  });
  return struct_equal(task.outputs()[0], reference);
}

MatmulConfig default_matmul_config(const CpuTarget& target) {
  MatmulConfig c;
  c.micro_n = std::max<int64_t>(target.vector_bytes() / 4, 4);
  c.block_n = 4 * c.micro_n;
  return c;
}

Function matmul_cpu(const Task& task, const MatmulConfig& cfg) {
  TM_ASSERT(is_matmul_task(task)) << "matmul_cpu given task " << task.name();
  TM_USER_CHECK(cfg.micro_m > 0 && cfg.micro_n > 0 && cfg.block_m % cfg.micro_m == 0 &&
                cfg.block_n % cfg.micro_n == 0)
      << "matmul config (" << cfg.str() << "): blocks must be multiples of the micro-tile";
  const Var& a = task.inputs()[0];
  const Var& b = task.inputs()[1];
  const Var& c = task.output_params()[0];
  const int64_t m = a.type().shape()[0], k = a.type().shape()[1], n = b.type().shape()[1];
  const DType dtype = c.dtype();
  const int64_t tiles_m = (m + cfg.block_m - 1) / cfg.block_m;
  const int64_t tiles_n = (n + cfg.block_n - 1) / cfg.block_n;

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  kb.attr("task", task.name());
  kb.attr("schedule", "matmul_cpu (" + cfg.str() + ")");

  TaskMapping tiles = TaskMapping::spatial({tiles_m, tiles_n}) *
                      TaskMapping::repeat({cfg.block_m / cfg.micro_m, cfg.block_n / cfg.micro_n});
  TaskMapping micro = TaskMapping::repeat({cfg.micro_m, cfg.micro_n}, {},
                                          {LoopHint::unroll(), LoopHint::vectorize()});
  if (m == 0 || n == 0) return kb.build();
  kb.for_range("w", tiles_m * tiles_n, LoopHint::parallel(), [&](const Var& w) {
    kb.for_mapping(tiles, w,
                   [&](const Index& pq) {
                     Var acc = kb.register_tensor("acc", dtype, Layout::mirror(micro));
                     auto row = [&](const Expr& i) { return pq[0] * cfg.micro_m + i; };
                     auto col = [&](const Expr& j) { return pq[1] * cfg.micro_n + j; };
                     kb.for_mapping(micro, 0, [&](const Index& ij) {
                       kb.store(acc, ij, make_const(dtype, 0));
                     });
                     kb.for_range("kk", k, [&](const Var& kk) {
                       kb.for_mapping(micro, 0, [&](const Index& ij) {
                         Expr lhs = load(a, {min(row(ij[0]), m - 1), kk});
                         Expr rhs = load(b, {kk, min(col(ij[1]), n - 1)});
                         kb.store(acc, ij, load(acc, ij) + lhs * rhs);
                       });
                     });
                     kb.for_mapping(micro, 0, [&](const Index& ij) {
                       Expr r = row(ij[0]), s = col(ij[1]);
                       kb.if_then(r < m && s < n, [&] { kb.store(c, {r, s}, load(acc, ij)); });
                     });
                   },
                   {"p", "q"});
  });
  return kb.build();
}

}  // namespace taskmap::schedules
