// Task mappings: the primitive factories, composition, the concrete interpreter tasks(w) and
// the text form. A mapping is a flat chain of primitive factors (mapping_node.h); lowering, parsing
// and auto_map live in their own files.
#include "taskmap/ir/mapping.h"

#include <algorithm>
#include <numeric>

#include "ir/mapping/index_arith.h"
#include "ir/mapping/join.h"
#include "ir/mapping/mapping_node.h"
#include "taskmap/error.h"

namespace taskmap::ir {
namespace {

const char* factor_name(FactorKind kind) {
  return kind == FactorKind::spatial ? "spatial" : "repeat";
}

// The original system unrolls short repeat dims explicitly and leaves the rest to the compiler.
std::vector<LoopHint> default_hints(const std::vector<int64_t>& shape) {
  std::vector<LoopHint> hints(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 4) hints[i] = LoopHint::unroll();
  }
  return hints;
}

std::vector<int> row_major_ranks(size_t rank) {
  std::vector<int> ranks(rank);
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

std::vector<int> column_major_ranks(size_t rank) {
  std::vector<int> ranks = row_major_ranks(rank);
  std::reverse(ranks.begin(), ranks.end());
  return ranks;
}

// Checks the arguments of a primitive factory and fills in default ranks.
MappingFactor make_factor(FactorKind kind, std::vector<int64_t> shape, std::vector<int> ranks) {
  const char* name = factor_name(kind);
  TM_USER_CHECK(!shape.empty()) << name << ": a task mapping needs at least one dimension";
  for (size_t i = 0; i < shape.size(); ++i) {
    TM_USER_CHECK(shape[i] > 0) << name << "(" << join(shape) << "): extent " << shape[i]
                                << " of dim " << i << " must be positive";
  }
  if (ranks.empty()) ranks = row_major_ranks(shape.size());
  std::vector<int> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  TM_USER_CHECK(sorted == row_major_ranks(shape.size()))
      << name << "(" << join(shape) << "): ranks [" << join(ranks)
      << "] must be a permutation of 0.." << shape.size() - 1;
  MappingFactor factor;
  factor.kind = kind;
  factor.shape = std::move(shape);
  factor.ranks = std::move(ranks);
  return factor;
}

}  // namespace

// ---- factors ----------------------------------------------------------------------------------

int64_t MappingFactor::count() const {
  int64_t product = 1;
  for (int64_t extent : shape) product *= extent;  // checked when the mapping was built
  return product;
}

std::vector<int64_t> MappingFactor::strides() const {
  std::vector<int64_t> result(shape.size(), 1);
  for (size_t i = 0; i < shape.size(); ++i) {
    for (size_t j = 0; j < shape.size(); ++j) {
      if (ranks[j] > ranks[i]) result[i] *= shape[j];
    }
  }
  return result;
}

std::vector<int64_t> MappingFactor::unravel(int64_t linear) const {
  std::vector<int64_t> stride = strides();
  std::vector<int64_t> point(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) point[i] = linear / stride[i] % shape[i];
  return point;
}

bool MappingFactor::is_row_major() const {
  return ranks == row_major_ranks(shape.size());
}

bool MappingFactor::is_column_major() const {
  return ranks == column_major_ranks(shape.size());
}

std::string factor_str(const MappingFactor& factor) {
  std::string name = factor_name(factor.kind);
  std::string extra;
  if (factor.rank() >= 2 && factor.is_column_major()) {
    name = "col_" + name;
  } else if (!factor.is_row_major()) {
    extra += ", ranks=[" + join(factor.ranks) + "]";
  }
  if (factor.kind == FactorKind::repeat && factor.hints != default_hints(factor.shape)) {
    std::vector<std::string> names;
    for (const LoopHint& hint : factor.hints) {
      names.push_back(hint.kind == LoopKind::serial ? "serial" : hint.str());
    }
    extra += ", hints=[" + join(names) + "]";
  }
  return name + "(" + join(factor.shape) + extra + ")";
}

// ---- building mappings ------------------------------------------------------------------------

TaskMapping make_mapping(std::shared_ptr<const MappingNode> node) {
  return TaskMapping(std::move(node));
}

TaskMapping make_mapping(std::vector<MappingFactor> factors) {
  TM_ASSERT(!factors.empty()) << "a mapping has at least one factor";
  auto node = std::make_shared<MappingNode>();
  const size_t rank = factors.front().shape.size();
  // Every per-factor count divides the number of tasks in the grid, so checking the per-dim
  // extents and their product is enough to rule out overflow everywhere else.
  auto overflow = [&] {
    std::string text;
    for (const MappingFactor& factor : factors) {
      text += (text.empty() ? "" : " * ") + factor_str(factor);
    }
    return "task mapping " + text + " has too many tasks (the count overflows a 64-bit integer)";
  };
  node->task_shape.assign(rank, 1);
  for (const MappingFactor& factor : factors) {
    TM_ASSERT(factor.shape.size() == rank) << "factors of one chain share a rank";
    for (size_t i = 0; i < rank; ++i) {
      std::optional<int64_t> extent = checked_mul(node->task_shape[i], factor.shape[i]);
      TM_USER_CHECK(extent) << overflow();
      node->task_shape[i] = *extent;
    }
  }
  int64_t total = 1;
  for (int64_t extent : node->task_shape) {
    std::optional<int64_t> product = checked_mul(total, extent);
    TM_USER_CHECK(product) << overflow();
    total = *product;
  }
  for (const MappingFactor& factor : factors) {
    int64_t& count =
        factor.kind == FactorKind::spatial ? node->num_workers : node->tasks_per_worker;
    count *= factor.count();
  }
  node->factors = std::move(factors);
  return make_mapping(std::shared_ptr<const MappingNode>(std::move(node)));
}

TaskMapping TaskMapping::spatial(std::vector<int64_t> shape, std::vector<int> ranks) {
  return make_mapping({make_factor(FactorKind::spatial, std::move(shape), std::move(ranks))});
}

TaskMapping TaskMapping::col_spatial(std::vector<int64_t> shape) {
  std::vector<int> ranks = column_major_ranks(shape.size());
  return spatial(std::move(shape), std::move(ranks));
}

TaskMapping TaskMapping::repeat(std::vector<int64_t> shape, std::vector<int> ranks,
                                std::vector<LoopHint> hints) {
  MappingFactor factor = make_factor(FactorKind::repeat, std::move(shape), std::move(ranks));
  if (hints.empty()) hints = default_hints(factor.shape);
  TM_USER_CHECK(hints.size() == factor.shape.size())
      << "repeat(" << join(factor.shape) << "): got " << hints.size() << " loop hints for "
      << factor.shape.size() << " dims";
  factor.hints = std::move(hints);
  return make_mapping({std::move(factor)});
}

TaskMapping TaskMapping::col_repeat(std::vector<int64_t> shape) {
  std::vector<int> ranks = column_major_ranks(shape.size());
  return repeat(std::move(shape), std::move(ranks));
}

TaskMapping TaskMapping::operator*(const TaskMapping& inner) const {
  TM_USER_CHECK(defined() && inner.defined()) << "cannot compose an undefined task mapping";
  TM_USER_CHECK(rank() == inner.rank())
      << "cannot compose " << str() << " with " << inner.str() << ": ranks differ (" << rank()
      << " vs " << inner.rank() << ")";
  // Composition is associative, so chains are kept flat whatever the grouping.
  std::vector<MappingFactor> factors = node_->factors;
  factors.insert(factors.end(), inner.node_->factors.begin(), inner.node_->factors.end());
  return make_mapping(std::move(factors));
}

// ---- queries ----------------------------------------------------------------------------------

int TaskMapping::rank() const {
  TM_ASSERT(defined()) << "rank() of an undefined task mapping";
  return static_cast<int>(node_->task_shape.size());
}

int64_t TaskMapping::num_workers() const {
  TM_ASSERT(defined()) << "num_workers() of an undefined task mapping";
  return node_->num_workers;
}

const std::vector<int64_t>& TaskMapping::task_shape() const {
  TM_ASSERT(defined()) << "task_shape() of an undefined task mapping";
  return node_->task_shape;
}

int64_t TaskMapping::tasks_per_worker() const {
  TM_ASSERT(defined()) << "tasks_per_worker() of an undefined task mapping";
  return node_->tasks_per_worker;
}

std::vector<TaskIndex> TaskMapping::tasks(int64_t worker) const {
  TM_USER_CHECK(worker >= 0 && worker < num_workers())
      << "worker " << worker << " is out of range for " << str() << ", which has " << num_workers()
      << " workers";
  // Left fold over the chain: after each factor, `result` is the task list of the prefix
  // mapping, and each task grows as a ⊙ T_factor + b.
  std::vector<TaskIndex> result{TaskIndex(node_->task_shape.size(), 0)};
  int64_t workers_after = node_->num_workers;  // workers of the factors not yet visited
  for (const MappingFactor& factor : node_->factors) {
    std::vector<std::vector<int64_t>> points;
    if (factor.kind == FactorKind::spatial) {
      workers_after /= factor.count();
      points.push_back(factor.unravel(worker / workers_after % factor.count()));
    } else {
      for (int64_t k = 0; k < factor.count(); ++k) points.push_back(factor.unravel(k));
    }
    std::vector<TaskIndex> next;
    next.reserve(result.size() * points.size());
    for (const TaskIndex& a : result) {
      for (const std::vector<int64_t>& b : points) {
        TaskIndex task(a.size());
        for (size_t i = 0; i < a.size(); ++i) task[i] = a[i] * factor.shape[i] + b[i];
        next.push_back(std::move(task));
      }
    }
    result = std::move(next);
  }
  return result;
}

std::string TaskMapping::str() const {
  if (!defined()) return "<undefined mapping>";
  std::vector<std::string> parts;
  for (const MappingFactor& factor : node_->factors) parts.push_back(factor_str(factor));
  return join(parts, " * ");
}

bool TaskMapping::operator==(const TaskMapping& other) const {
  if (node_ == other.node_) return true;
  if (!defined() || !other.defined()) return false;
  return node_->factors == other.node_->factors;
}

}  // namespace taskmap::ir
