#pragma once
// The node behind a TaskMapping: a composition chain of primitive factors, outermost first.
// Composition is associative, so `(a * b) * c` and `a * (b * c)` are stored as the same flat
// chain [a, b, c]; a primitive mapping is a chain of one factor. Passes that need the structure
// (lowering, register layouts) read the factors directly.
#include <cstdint>
#include <memory>
#include <vector>

#include "taskmap/ir/loop_hint.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {

enum class FactorKind : uint8_t {
  spatial,  // one task per worker
  repeat,   // one worker runs every task
};

struct MappingFactor {
  FactorKind kind = FactorKind::spatial;
  std::vector<int64_t> shape;
  // A permutation of 0..d-1; the dim with the highest rank varies fastest.
  std::vector<int> ranks;
  // repeat only: one hint per dim. Empty for spatial factors.
  std::vector<LoopHint> hints;

  int rank() const { return static_cast<int>(shape.size()); }
  // ∏ shape: the workers of a spatial factor, the tasks of a repeat factor.
  int64_t count() const;
  // The linear stride of each dim in rank order: the fastest dim has stride 1.
  std::vector<int64_t> strides() const;
  // The coordinates of the `linear`-th point of the factor's grid in rank order.
  std::vector<int64_t> unravel(int64_t linear) const;
  bool is_row_major() const;     // ranks == 0..d-1
  bool is_column_major() const;  // ranks == d-1..0

  bool operator==(const MappingFactor&) const = default;
};

struct MappingNode {
  std::vector<MappingFactor> factors;  // outermost first; never empty
  int64_t num_workers = 1;
  std::vector<int64_t> task_shape;
  int64_t tasks_per_worker = 1;
};

// Builds a mapping from a factor chain, computing workers and shapes. Checks that all factors
// share one rank and that no count overflows int64 (user errors).
TaskMapping make_mapping(std::shared_ptr<const MappingNode> node);
TaskMapping make_mapping(std::vector<MappingFactor> factors);

// The text form of one factor, e.g. "spatial(4, 8)" or "repeat(2, 8, hints=[unroll, vectorize])".
std::string factor_str(const MappingFactor& factor);

}  // namespace taskmap::ir
