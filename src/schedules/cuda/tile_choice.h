#pragma once
// How the CUDA matmul templates pick their tile from the target alone.
#include <utility>
#include <vector>

#include "schedules/cpu/template_util.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// The first config of `space` (largest tile first) whose tiles give the problem at least one
// block per SM, else the last: batch-1 inference has few rows, and SMs left idle cost more than
// a smaller tile's lower reuse. `tile_of(config)` is its (rows, columns).
template <typename Config, typename TileOf>
Config largest_tile_filling_the_sms(const std::vector<Config>& space, const GemmForm& f,
                                    const CudaTarget& target, TileOf tile_of) {
  for (const Config& c : space) {
    const auto [rows, cols] = tile_of(c);
    if (f.batch_size * ceil_div(f.m_size, rows) * ceil_div(f.n_size, cols) >= target.sm_count)
      return c;
  }
  return space.back();
}

}  // namespace taskmap::schedules
