#pragma once
// What the tensor-core matmul template (matmul_mma_cuda.h) reads its factors from: A a plain load
// whose 16-byte chunks run along K, B a plain load whose chunks run along N or K, or else a B
// the threads evaluate and stage through registers.
#include <cstdint>
#include <optional>

#include "taskmap/ir/expr.h"
#include "taskmap/schedules/gemm_form.h"

namespace taskmap::schedules {

// Elements of `dtype` in a 16-byte chunk (one cp.async copy, one ldmatrix row): 8 of f16 /
// bf16, 4 of f32 (tf32).
int64_t chunk_of(ir::DType dtype);

// The factors the copies read: loads of f16 / bf16 inputs (widened to f32 in the task), or with
// tf32 of f32 ones, whose 16-byte chunks are contiguous and aligned, A's along K, B's along N or
// K. A B that cannot be copied so (a convolution's windows, rows not whole chunks, strides) is
// staged: computed by the threads from loads of inputs of A's type, through registers.
struct MmaOperands {
  const ir::LoadNode* a = nullptr;
  const ir::LoadNode* b = nullptr;  // nullptr when staged
  bool b_along_k = false;           // B's chunks run along K (a transposed B), else along N
  bool b_staged = false;            // B evaluated into registers and stored along N

  ir::DType dtype() const { return a->buffer.type().dtype(); }
  int64_t chunk() const { return chunk_of(dtype()); }
  bool tf32() const { return dtype() == ir::f32; }
};

// The operands of `f`, or nothing when A cannot be copied (its chunks do not run along K, K is
// not whole chunks, it is not a load of an f16 / bf16 input, or of an f32 one with `tf32`) or B
// can be neither copied nor staged (it reads inputs of another type).
std::optional<MmaOperands> mma_operands(const GemmForm& f, bool tf32);

}  // namespace taskmap::schedules
