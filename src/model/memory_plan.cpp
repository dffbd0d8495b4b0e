#include "model/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace taskmap::model {

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers) {
  constexpr int64_t kAlign = 64;
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferLifetime& b = buffers[i];
    int64_t size = (b.bytes + kAlign - 1) / kAlign * kAlign;
    // Intervals of the arena taken by placed buffers that are alive at the same time.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : placed) {
      const BufferLifetime& o = buffers[j];
      if (o.last_step < b.first_step || b.last_step < o.first_step) continue;
      taken.emplace_back(plan.offsets[j],
                         plan.offsets[j] + (o.bytes + kAlign - 1) / kAlign * kAlign);
    }
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (const auto& [start, end] : taken) {
      if (offset + size <= start) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace taskmap::model
