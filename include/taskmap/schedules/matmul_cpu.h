#pragma once
// The CPU matmul template, written with task mappings (DESIGN.md "Lowering"; the fast packed
// AVX-512 version is a later step). C[M, N] = A[M, K] · B[K, N].
//
//   for w in range(tiles_m · tiles_n) parallel:                          cores take block tiles
//     for (p, q) in spatial(tiles_m, tiles_n) * repeat(block_m/micro_m, block_n/micro_n) on w:
//       acc: f32[micro_m, micro_n] @ row_major                           the register micro-tile
//       for k in range(K):
//         for (i, j) in repeat(micro_m, micro_n) on 0:   (i unrolled, j vectorized)
//           acc[i, j] += A[row, k] · B[k, col]
//       for (i, j) in repeat(micro_m, micro_n) on 0: if row < M and col < N: C[row, col] = acc[i,
//       j]
// Edge tiles read clamped rows / columns and store only the in-range part.
#include <cstdint>
#include <string>

#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

struct MatmulConfig {
  int64_t block_m = 16;
  int64_t block_n = 64;
  int64_t micro_m = 4;
  int64_t micro_n = 16;
  std::string str() const;
};

// The matmul task: inputs a [M, K] and b [K, N], output c [M, N], attribute op = matmul.
ir::Task matmul_task(int64_t m, int64_t n, int64_t k, ir::DType dtype = ir::f32);
bool is_matmul_task(const ir::Task& task);

// One good configuration from the hardware: the micro-tile spans one vector register row.
MatmulConfig default_matmul_config(const CpuTarget& target);

// Requires is_matmul_task(task); a config whose blocks are not multiples of its micro-tile is a
// UserError.
ir::Function matmul_cpu(const ir::Task& task, const MatmulConfig& config);

}  // namespace taskmap::schedules
