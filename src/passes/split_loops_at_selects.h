#pragma once
// split_loops_at_selects: a serial or vectorized loop whose body chooses between values by
// comparing the loop variable itself with constants (`select(c < 320, x[...], select(c < 512,
// y[...], z[...]))`: a Concat along its inner axis, a Pad's border) is cut at those constants
// into one loop per range, each body simplified under its range, so that the choice and the
// index clamps that kept the unchosen arms in range fold away:
//
//   for c in [0, 1280): out[c] = c < 320 ? x[min(c, 319)] : y[max(c - 320, 0)]
//   ->  for c in [0, 320): out[c] = x[c];   for c in [0, 960): out[c + 320] = y[c]
//
// GCC vectorizes a select between loads into masked loads of every arm (Inception-v3's Concats
// read each input once per output element); the pieces are plain copies. At most 8 pieces a
// loop, so that nested splits stay small.
//   requires: task mappings lowered, tensor indices not yet flattened.
//   guarantees: the same results; the loop variable of each piece starts at 0.
#include "taskmap/ir/stmt.h"

namespace taskmap::passes {

ir::Function split_loops_at_selects(const ir::Function& f);

}  // namespace taskmap::passes
