#pragma once
// hoist_guarded_loads: inside a vectorized loop, in an accumulation (`acc = acc + ...`), a select
// whose condition does not change along the loop (a window position in the padding of a
// channels-last pool) and one of whose arms is a load whose indices are in range whatever the
// condition (the operators clamp them) becomes
//
//   t = x[...];  ... blend(inside, t, 0) ...
//
// the load bound before the statement and the select a `blend` (both arms evaluated, the
// result chosen bitwise). GCC turns a load guarded by a loop-invariant condition into a masked
// load it cannot vectorize ("no vectype for .MASK_LOAD"), and a plain select of a hoisted load
// back into a branch around it; either way the whole loop stays scalar. A channels-last padded
// average pool of Inception-v3 vectorizes with the blend (0.4-0.6 -> 0.05-0.19 ms). Stores are
// left alone: the GEMM template's padded packing loops, which GCC vectorizes already, ran 7-20%
// slower with blends.
//   requires: task mappings lowered, tensor indices not yet flattened.
//   guarantees: the same results (the hoisted loads are in range, so they cannot fault; a blend
//   yields the bits of the chosen arm).
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function hoist_guarded_loads(const ir::Function& f);

}  // namespace taskmap::passes
