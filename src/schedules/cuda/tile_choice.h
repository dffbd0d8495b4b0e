#pragma once
// How the CUDA matmul templates pick their tile from the target alone.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "schedules/cpu/template_util.h"
#include "taskmap/schedules/gemm_form.h"
#include "taskmap/target.h"

namespace taskmap::schedules {

// Split-k ranges stop at this many, each at least the template's minimum K.
constexpr int64_t kMaxSplits = 16;

// The first config of `space` (largest tile first) whose blocks give every SM one: its tiles
// alone, or with K split (split_k.h) into at most K / `min_split_k` ranges when the tiles are
// too few; else the last config, split as far as that allows. Batch-1 inference has few rows,
// SMs left idle cost more than a smaller tile's lower reuse, and a smaller tile's lower reuse
// more than the partial sums' round trip through memory. A tile that computes twice the rows
// (or columns) the space's smallest would, padding included, is passed over: a 16-row problem
// takes 32-row tiles, not 64 rows of which 48 multiply zeros. `tile_of(config)` is its (rows,
// columns); the returned config's `split_k` is set.
template <typename Config, typename TileOf>
Config largest_tile_filling_the_sms(const std::vector<Config>& space, const GemmForm& f,
                                    const CudaTarget& target, int64_t min_split_k, TileOf tile_of) {
  const int64_t most_splits = std::clamp<int64_t>(f.k_size / min_split_k, 1, kMaxSplits);
  // The rows and columns the tiles compute, padding included, at the least over the space.
  int64_t least_rows = std::numeric_limits<int64_t>::max(), least_cols = least_rows;
  for (const Config& c : space) {
    const auto [rows, cols] = tile_of(c);
    least_rows = std::min(least_rows, ceil_div(f.m_size, rows) * rows);
    least_cols = std::min(least_cols, ceil_div(f.n_size, cols) * cols);
  }
  auto wasteful = [&](const Config& c) {
    const auto [rows, cols] = tile_of(c);
    return ceil_div(f.m_size, rows) * rows >= 2 * least_rows ||
           ceil_div(f.n_size, cols) * cols >= 2 * least_cols;
  };
  auto split = [&](Config c) {
    const auto [rows, cols] = tile_of(c);
    const int64_t tiles = f.batch_size * ceil_div(f.m_size, rows) * ceil_div(f.n_size, cols);
    c.split_k = std::min(ceil_div(target.sm_count, tiles), most_splits);
    return std::pair{c, tiles * c.split_k >= target.sm_count};
  };
  for (const Config& c : space) {
    if (wasteful(c)) continue;
    const auto [chosen, fills] = split(c);
    if (fills) return chosen;
  }
  return split(space.back()).first;
}

}  // namespace taskmap::schedules
