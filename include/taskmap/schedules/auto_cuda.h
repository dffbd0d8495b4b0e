#pragma once
// The rule-based CUDA auto-scheduler: any Task becomes a correct module, one kernel per output
// (hidet-design.md §4.5, "one thread per output element is fine here").
//
// Every compute that is not an output is inlined into its users, reductions included; each
// output is written by its own kernel (in dependency order) in which thread t of block b
// computes element b · kBlockThreads + t (row-major), its reductions in local accumulators:
//   w = blockIdx.x * kBlockThreads + threadIdx.x
//   if (w < numel(out)) for (i..) in spatial(shape) on w: out[i..] = value
// An output whose value does not reduce (an elementwise group, a transpose, a gather) gives
// each thread V consecutive elements along its innermost axis instead, V filling 16 bytes (4
// f32, 8 f16, 2 i64) and dividing that axis (halved until it does): spatial(shape with the last
// extent / V) on w, then V unrolled elements. The kernels' tensors are 16-byte aligned (the CUDA
// printer says so), so nvcc merges a thread's elements of the output, and of every input read
// along the same axis, into 16-byte loads and stores. (Not where the value computes on f16 /
// bf16: the conversions' inline PTX between the elements keeps nvcc from merging them; loading
// all of a thread's elements before converting any would let it. Moving f16 merges.)
// Each kernel's attrs hold its launch shape: "cuda.block_dim" and "cuda.grid_dim".
// An intermediate reduction is so recomputed for every element that reads it (Softmax: each
// element of a row finds the row's maximum and sum again), correct but slower than keeping it;
// the reduce, softmax and layer-norm templates are where speed comes from.
#include "taskmap/ir/compute.h"
#include "taskmap/ir/stmt.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// Threads per block: eight warps, which every architecture from sm_75 runs several of per SM.
constexpr int64_t kBlockThreads = 256;

ir::Module auto_schedule_cuda(const ir::Task& task, const CudaTarget& target);

}  // namespace taskmap::schedules
