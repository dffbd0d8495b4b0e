// The primitive table. Elementwise math keeps its argument's type; vector intrinsics take an
// explicit result type.
#include "taskmap/ir/primitive.h"

namespace taskmap::ir {
namespace {

using R = PrimitiveResult;

std::vector<Primitive>& table() {
  static std::vector<Primitive> primitives = {
      // name, args, result, float_only
      {"exp", 1, R::same_as_first_arg, true},
      {"exp2", 1, R::same_as_first_arg, true},
      {"log2", 1, R::same_as_first_arg, true},
      {"erfc", 1, R::same_as_first_arg, true},
      {"trunc", 1, R::same_as_first_arg, true},
      {"sigmoid", 1, R::same_as_first_arg, true},
      {"log", 1, R::same_as_first_arg, true},
      {"sqrt", 1, R::same_as_first_arg, true},
      {"rsqrt", 1, R::same_as_first_arg, true},
      {"tanh", 1, R::same_as_first_arg, true},
      {"erf", 1, R::same_as_first_arg, true},
      {"sin", 1, R::same_as_first_arg, true},
      {"cos", 1, R::same_as_first_arg, true},
      {"tan", 1, R::same_as_first_arg, true},
      {"asin", 1, R::same_as_first_arg, true},
      {"acos", 1, R::same_as_first_arg, true},
      {"atan", 1, R::same_as_first_arg, true},
      {"sinh", 1, R::same_as_first_arg, true},
      {"cosh", 1, R::same_as_first_arg, true},
      {"asinh", 1, R::same_as_first_arg, true},
      {"acosh", 1, R::same_as_first_arg, true},
      {"atanh", 1, R::same_as_first_arg, true},
      {"floor", 1, R::same_as_first_arg, true},
      {"ceil", 1, R::same_as_first_arg, true},
      {"round", 1, R::same_as_first_arg, true},  // half to even, as ONNX Round
      {"isnan", 1, R::explicit_type, true},
      {"isinf", 1, R::explicit_type, true},
      {"abs", 1, R::same_as_first_arg, false},
      {"pow", 2, R::same_as_first_arg, true},
      {"fmod", 2, R::same_as_first_arg, true},
      {"fma", 3, R::same_as_first_arg, true},  // a * b + c, rounded once
      // Vector intrinsics over GCC vector types. vec_load(address) -> vector of the given type;
      // vec_store(address, vector); vec_broadcast(scalar) -> vector; vec_reduce_add(vector).
      // vec_load_masked(f32 address, i32 mask) -> f32 vector: lane i loads when bit i of the
      // mask is set and is 0 otherwise; masked-off lanes read no memory.
      {"vec_load", 1, R::explicit_type, false},
      {"vec_load_masked", 2, R::explicit_type, false},
      // vec_gather_masked(f32 address, i32 address of offsets, i32 mask) -> f32 vector: lane i
      // loads address[offsets[i]] when bit i of the mask is set, and is 0 otherwise.
      {"vec_gather_masked", 3, R::explicit_type, false},
      {"vec_store", 2, R::void_, false},
      // prefetch_read(address), prefetch_write(address): a hint that the line holding the
      // element will be read / written soon (brought into L2). Never faults, even out of bounds.
      {"prefetch_read", 1, R::void_, false},
      {"prefetch_write", 1, R::void_, false},
      // blend(cond, a, b): a where cond holds, else b, like a select, but both arms are
      // evaluated and the result is chosen bitwise, so a vectorizing compiler keeps it a blend
      // (passes/hoist_guarded_loads.h).
      {"blend", 3, R::explicit_type, false},
      {"vec_broadcast", 1, R::explicit_type, false},
      // vec_broadcast_at(address) -> vector: the element at the address in every lane. (A
      // template that reads a tensor in place so takes its address: no producer is fused into
      // those reads, which would recompute it at each.)
      {"vec_broadcast_at", 1, R::explicit_type, false},
      // vec_extract(vector, lane) -> its element at `lane`: a template that finishes values in
      // registers stores them through scalar code in a vectorized loop over the lanes, which
      // the C compiler turns back into vector operations on the register.
      {"vec_extract", 2, R::explicit_type, false},
      {"vec_reduce_add", 1, R::explicit_type, false},
      {"vec_reduce_max", 1, R::explicit_type, false},
      // CUDA: the calling thread's index in its block and the block's in the grid, the block
      // and grid sizes (x dimension, i32), and the block-wide barrier.
      {"thread_idx_x", 0, R::explicit_type, false},
      {"block_idx_x", 0, R::explicit_type, false},
      {"block_dim_x", 0, R::explicit_type, false},
      {"grid_dim_x", 0, R::explicit_type, false},
      {"sync_threads", 0, R::void_, false},
      // warp_shuffle_down(value, offset) / warp_shuffle_xor(value, mask): the value of the lane
      // `offset` above / `mask` across in the warp (all 32 lanes take part); atomic_add(address,
      // value) adds to global or shared memory atomically.
      {"warp_shuffle_down", 2, R::same_as_first_arg, false},
      {"warp_shuffle_xor", 2, R::same_as_first_arg, false},
      {"atomic_add", 2, R::void_, false},
      // CUDA sm_80+ asynchronous copies: cp_async_16(shared address, global address, src_bytes)
      // copies 16 bytes from global to shared memory without staging them in registers, filling
      // past the first src_bytes (0 or 16) with zeros (an out-of-bounds chunk reads nothing);
      // cp_async_commit() closes the thread's group of copies issued so far; cp_async_wait(n)
      // waits until at most n (a constant) of its groups are still in flight.
      {"cp_async_16", 3, R::void_, false},
      {"cp_async_commit", 0, R::void_, false},
      {"cp_async_wait", 1, R::void_, false},
      // ldmatrix(register address, shared address, count, trans): the warp loads `count` (1, 2
      // or 4, a constant) 8x8 matrices of 16-bit elements from shared memory; lane l gives the
      // address of row l % 8 of matrix l / 8 and receives, in register j (two elements), row
      // l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 of matrix j — of its transpose when trans is
      // 1. The register address points at 2 * count consecutive 16-bit elements.
      {"ldmatrix", 4, R::void_, false},
      // mma_sync(d, a, b, c): one warp-wide tensor-core product D = A B + C with f32 C and D of
      // 16x8 (four per lane), by the element type of A's registers: f16 or bf16, A 16x16 (eight
      // per lane) and B 16x8 (four); f32, rounded to tf32, A 16x8 (four) and B 8x8 (two). Each
      // argument is the address of the lane's registers, in the PTX ISA's fragment order.
      {"mma_sync", 4, R::void_, false},
  };
  return primitives;
}

}  // namespace

const Primitive* find_primitive(std::string_view name) {
  for (const Primitive& p : table()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const std::vector<const Primitive*>& all_primitives() {
  static const std::vector<const Primitive*> all = [] {
    std::vector<const Primitive*> v;
    for (const Primitive& p : table()) v.push_back(&p);
    return v;
  }();
  return all;
}

}  // namespace taskmap::ir
