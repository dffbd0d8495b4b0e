// auto_map: the default way to spread a task grid over a number of workers. Walking the dims
// from the fastest rank to the slowest, each dim takes gcd(remaining workers, extent) workers,
// so consecutive workers get consecutive tasks along the fastest dim (coalesced accesses); what
// is left of each dim is repeated. The result is repeat(r) * spatial(s), both with `ranks`.
#include <algorithm>
#include <numeric>

#include "ir/mapping/index_arith.h"
#include "ir/mapping/join.h"
#include "taskmap/error.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {

TaskMapping TaskMapping::auto_map(std::vector<int64_t> shape, int64_t workers,
                                  std::vector<int> ranks) {
  TM_USER_CHECK(!shape.empty()) << "auto_map: a task mapping needs at least one dimension";
  TM_USER_CHECK(workers > 0) << "auto_map(" << join(shape) << "): workers must be positive, got "
                             << workers;
  if (ranks.empty()) {
    ranks.resize(shape.size());
    std::iota(ranks.begin(), ranks.end(), 0);
  }
  int64_t tasks = 1;
  for (int64_t extent : shape) {
    TM_USER_CHECK(extent > 0) << "auto_map(" << join(shape) << "): extent " << extent
                              << " must be positive";
    std::optional<int64_t> product = checked_mul(tasks, extent);
    TM_USER_CHECK(product) << "auto_map(" << join(shape)
                           << ") has too many tasks (the count overflows a 64-bit integer)";
    tasks = *product;
  }
  TM_USER_CHECK(tasks % workers == 0)
      << "auto_map(" << join(shape) << ", workers=" << workers << "): the " << tasks
      << " tasks cannot be split evenly over " << workers << " workers";
  TM_USER_CHECK(ranks.size() == shape.size())
      << "auto_map(" << join(shape) << "): got " << ranks.size() << " ranks for " << shape.size()
      << " dims";

  std::vector<size_t> fastest_first(shape.size());
  std::iota(fastest_first.begin(), fastest_first.end(), 0);
  std::sort(fastest_first.begin(), fastest_first.end(),
            [&](size_t a, size_t b) { return ranks[a] > ranks[b]; });
  std::vector<int64_t> spatial_shape(shape.size(), 1);
  std::vector<int64_t> repeat_shape(shape.size(), 1);
  int64_t remaining = workers;
  for (size_t dim : fastest_first) {
    spatial_shape[dim] = std::gcd(remaining, shape[dim]);
    repeat_shape[dim] = shape[dim] / spatial_shape[dim];
    remaining /= spatial_shape[dim];
  }
  // gcd takes each prime of `workers` wherever the grid has it, so divisibility is enough.
  TM_ASSERT(remaining == 1) << "auto_map left " << remaining << " workers unplaced";

  auto all_ones = [](const std::vector<int64_t>& s) {
    return std::all_of(s.begin(), s.end(), [](int64_t n) { return n == 1; });
  };
  // Trivial factors are left out: auto_map(8, 32, workers=256) is just spatial(8, 32).
  if (all_ones(repeat_shape)) return spatial(spatial_shape, ranks);
  if (all_ones(spatial_shape)) return repeat(repeat_shape, ranks);
  return repeat(repeat_shape, ranks) * spatial(spatial_shape, ranks);
}

}  // namespace taskmap::ir
