#pragma once
// Memory planning: offsets in one arena for buffers with known lifetimes, so that buffers whose
// lifetimes overlap never overlap in memory, and the arena stays small.
#include <cstdint>
#include <vector>

namespace taskmap::model {

struct BufferLifetime {
  int64_t bytes = 0;
  int first_step = 0;  // the step that writes it
  int last_step = 0;   // the last step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<int64_t> offsets;  // one per buffer, 64-byte aligned
  int64_t arena_bytes = 0;
};

// Greedy: largest buffers first, each at the lowest offset free for its whole lifetime.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers);

}  // namespace taskmap::model
