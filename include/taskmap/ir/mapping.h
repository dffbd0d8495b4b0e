#pragma once
// Task mappings: values that assign the tasks of a d-dimensional grid to workers and fix the
// order in which each worker runs its tasks (DESIGN.md "Task mapping"; hidet-design.md §2.1–2.5).
//
//   spatial(n1..nd)  ∏n workers, one task each: the unravel of w (row-major by default; `ranks`
//                    give each dim's rank, the highest rank varies fastest).
//   repeat(n1..nd)   one worker running all ∏n tasks in rank order; each dim carries a LoopHint.
//   outer * inner    same rank; W = W_o · W_i, T = T_o ⊙ T_i; worker w splits into
//                    (w / W_i, w % W_i); for each outer task a (in order), for each inner task b
//                    (in order), the task is a ⊙ T_i + b.
//
// Every mapping built from these partitions its task grid: each task is assigned to exactly one
// worker. Two interpreters: tasks(w) (concrete) and lower(worker) (symbolic, to loops and
// index arithmetic).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/ir/loop_hint.h"

namespace taskmap::ir {

class Expr;
class Var;
struct MappingNode;

// The coordinates of one task in the task grid.
using TaskIndex = std::vector<int64_t>;

class TaskMapping {
 public:
  TaskMapping() = default;

  // `ranks` empty means row-major: ranks = 0..d-1.
  static TaskMapping spatial(std::vector<int64_t> shape, std::vector<int> ranks = {});
  static TaskMapping col_spatial(std::vector<int64_t> shape);
  // `hints` empty means: dims with extent < 4 unroll, others serial (as the original system).
  static TaskMapping repeat(std::vector<int64_t> shape, std::vector<int> ranks = {},
                            std::vector<LoopHint> hints = {});
  static TaskMapping col_repeat(std::vector<int64_t> shape);
  // repeat(r) * spatial(s) where, from the fastest dim to the slowest, each dim gets
  // gcd(remaining workers, extent) workers. Requires ∏shape to be a multiple of `workers` and
  // all workers to be placed. auto_map({8, 32}, 64) == repeat(4, 1) * spatial(2, 32).
  static TaskMapping auto_map(std::vector<int64_t> shape, int64_t workers,
                              std::vector<int> ranks = {});

  // Composition; both sides must have the same rank (user error otherwise).
  TaskMapping operator*(const TaskMapping& inner) const;

  bool defined() const { return node_ != nullptr; }
  int rank() const;
  int64_t num_workers() const;
  const std::vector<int64_t>& task_shape() const;
  // Number of tasks each worker runs (the same for every worker).
  int64_t tasks_per_worker() const;

  // The tasks of worker `worker` in execution order. Requires 0 <= worker < num_workers().
  std::vector<TaskIndex> tasks(int64_t worker) const;

  // Symbolic lowering. The loops, outermost first, that enumerate a worker's tasks, and the task
  // coordinates as expressions of `worker` and the loop variables. Spatial dims become
  // `worker / stride % extent`, repeat dims become loops carrying their hints, composition
  // combines coordinates as `a * T_inner + b`.
  struct Lowered {
    std::vector<Var> loop_vars;  // outermost first
    std::vector<int64_t> extents;
    std::vector<LoopHint> hints;
    std::vector<Expr> task;  // one expression per task dim
  };
  Lowered lower(const Expr& worker) const;

  // "spatial(4, 8) * repeat(2, 2)"; parse(str()) gives an equal mapping.
  std::string str() const;
  bool operator==(const TaskMapping& other) const;  // structural

  // Parses the text form: terms joined by '*', each `spatial(...)`, `repeat(...)`,
  // `col_spatial(...)`, `col_repeat(...)` or `auto_map(n1, ..., workers=W)`. A malformed
  // expression is a UserError naming the column and what was expected.
  static TaskMapping parse(std::string_view text);

  const MappingNode* node() const { return node_.get(); }

 private:
  explicit TaskMapping(std::shared_ptr<const MappingNode> node) : node_(std::move(node)) {}
  std::shared_ptr<const MappingNode> node_;
  friend TaskMapping make_mapping(std::shared_ptr<const MappingNode>);
};

}  // namespace taskmap::ir
