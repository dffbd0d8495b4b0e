// Task mappings: the worked examples of hidet-design.md §2.4, auto_map, the text form and its
// parser, and a property test over random compositions that checks tasks(w) and the symbolic
// lowering against an independent reference built from the definition (§2.1–2.3).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#include "taskmap/arith/evaluate.h"
#include "taskmap/error.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {
namespace {

using Tasks = std::vector<TaskIndex>;

// ---- an evaluator for lowered index expressions ---------------------------------------------

// Index expressions are evaluated by the arithmetic layer's evaluator (C semantics).
using Env = arith::Env;

int64_t eval(const Expr& e, const Env& env) {
  return arith::evaluate_scalar(e, env).i;
}

// Whether `e` contains an operation the lowering promises to leave out.
bool has_trivial_arithmetic(const Expr& e) {
  const auto* bin = e.as<BinaryNode>();
  if (!bin) return false;
  const bool both_const = as_const_int(bin->a) && as_const_int(bin->b);
  const bool trivial =
      both_const ||
      ((bin->op == BinaryOp::add) && (is_const_int(bin->a, 0) || is_const_int(bin->b, 0))) ||
      ((bin->op == BinaryOp::mul) && (is_const_int(bin->a, 1) || is_const_int(bin->b, 1) ||
                                      is_const_int(bin->a, 0) || is_const_int(bin->b, 0))) ||
      ((bin->op == BinaryOp::div || bin->op == BinaryOp::mod) && is_const_int(bin->b, 1));
  return trivial || has_trivial_arithmetic(bin->a) || has_trivial_arithmetic(bin->b);
}

// Runs the lowered loop nest of `worker` and collects the tasks it produces, in order.
Tasks run_lowered(const TaskMapping& mapping, int64_t worker) {
  const Var w = var("w");
  const TaskMapping::Lowered lowered = mapping.lower(w);
  Env env{{w, arith::Value::of_int(worker)}};
  Tasks result;
  std::function<void(size_t)> loop = [&](size_t level) {
    if (level == lowered.loop_vars.size()) {
      TaskIndex task;
      for (const Expr& e : lowered.task) task.push_back(eval(e, env));
      result.push_back(task);
      return;
    }
    for (int64_t i = 0; i < lowered.extents[level]; ++i) {
      env[lowered.loop_vars[level]] = arith::Value::of_int(i);
      loop(level + 1);
    }
  };
  loop(0);
  return result;
}

// ---- the worked examples --------------------------------------------------------------------

TaskMapping sp(std::vector<int64_t> s) {
  return TaskMapping::spatial(std::move(s));
}
TaskMapping rp(std::vector<int64_t> s) {
  return TaskMapping::repeat(std::move(s));
}

TEST(MappingExamples, Spatial) {
  TaskMapping m = sp({4, 8});
  EXPECT_EQ(m.num_workers(), 32);
  EXPECT_EQ(m.task_shape(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(m.tasks_per_worker(), 1);
  EXPECT_EQ(m.tasks(13), (Tasks{{1, 5}}));
}

TEST(MappingExamples, ColumnSpatial) {
  TaskMapping m = TaskMapping::col_spatial({4, 8});
  EXPECT_EQ(m.num_workers(), 32);
  EXPECT_EQ(m.tasks(13), (Tasks{{1, 3}}));
}

TEST(MappingExamples, SpatialThenRepeatGivesContiguousBlocks) {
  TaskMapping m = sp({4, 8}) * rp({2, 2});
  EXPECT_EQ(m.num_workers(), 32);
  EXPECT_EQ(m.task_shape(), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(m.tasks_per_worker(), 4);
  EXPECT_EQ(m.tasks(13), (Tasks{{2, 10}, {2, 11}, {3, 10}, {3, 11}}));
}

TEST(MappingExamples, RepeatThenSpatialIsCyclic) {
  TaskMapping m = rp({2, 2}) * sp({4, 8});
  EXPECT_EQ(m.num_workers(), 32);
  EXPECT_EQ(m.task_shape(), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(m.tasks(13), (Tasks{{1, 5}, {1, 13}, {5, 5}, {5, 13}}));
}

TEST(MappingExamples, MmaAccumulatorFragment) {
  TaskMapping m = rp({2, 1}) * sp({8, 4}) * rp({1, 2});
  EXPECT_EQ(m.num_workers(), 32);
  EXPECT_EQ(m.task_shape(), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(m.tasks(5), (Tasks{{1, 2}, {1, 3}, {9, 2}, {9, 3}}));
}

TEST(MappingExamples, SimtMatmulBlock) {
  TaskMapping m = sp({2, 2}) * rp({2, 2}) * sp({4, 8}) * rp({4, 4});
  EXPECT_EQ(m.num_workers(), 128);
  EXPECT_EQ(m.task_shape(), (std::vector<int64_t>{64, 128}));
  Tasks tasks = m.tasks(45);
  ASSERT_EQ(tasks.size(), 64u);
  Tasks expected;
  for (int64_t row : {4, 5, 6, 7, 20, 21, 22, 23}) {
    for (int64_t col : {84, 85, 86, 87, 116, 117, 118, 119}) expected.push_back({row, col});
  }
  Tasks sorted = tasks;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, expected);
  // Execution order: the outer repeat's four blocks, each a 4x4 block in row-major order.
  EXPECT_EQ(tasks.front(), (TaskIndex{4, 84}));
  EXPECT_EQ(tasks[1], (TaskIndex{4, 85}));
  EXPECT_EQ(tasks[16], (TaskIndex{4, 116}));
  EXPECT_EQ(tasks.back(), (TaskIndex{23, 119}));
}

TEST(Mapping, CompositionIsAssociative) {
  EXPECT_EQ((sp({2, 2}) * rp({2, 2})) * sp({4, 8}), sp({2, 2}) * (rp({2, 2}) * sp({4, 8})));
  EXPECT_NE(sp({4, 8}) * rp({2, 2}), rp({2, 2}) * sp({4, 8}));
}

TEST(Mapping, RepeatHints) {
  TaskMapping m = rp({2, 8});
  TaskMapping::Lowered lowered = m.lower(var("w"));
  ASSERT_EQ(lowered.hints.size(), 2u);
  EXPECT_EQ(lowered.hints[0], LoopHint::unroll());  // extent < 4
  EXPECT_EQ(lowered.hints[1], LoopHint::serial());
  TaskMapping v = TaskMapping::repeat({2, 8}, {}, {LoopHint::serial(), LoopHint::vectorize()});
  EXPECT_EQ(v.lower(var("w")).hints,
            (std::vector<LoopHint>{LoopHint::serial(), LoopHint::vectorize()}));
  EXPECT_NE(m, v);
  EXPECT_EQ(v.str(), "repeat(2, 8, hints=[serial, vectorize])");
  EXPECT_EQ(TaskMapping::parse(v.str()), v);
}

TEST(Mapping, AutoMap) {
  EXPECT_EQ(TaskMapping::auto_map({8, 32}, 64), rp({4, 1}) * sp({2, 32}));
  EXPECT_EQ(TaskMapping::auto_map({8, 96}, 64), rp({4, 3}) * sp({2, 32}));
  EXPECT_EQ(TaskMapping::auto_map({8, 32}, 256), sp({8, 32}));
  EXPECT_EQ(TaskMapping::auto_map({8, 32}, 1), rp({8, 32}));
  EXPECT_EQ(TaskMapping::auto_map({8, 32}, 64, {1, 0}),
            TaskMapping::repeat({1, 4}, {1, 0}) * TaskMapping::spatial({8, 8}, {1, 0}));
  EXPECT_THROW(TaskMapping::auto_map({8, 3}, 16), UserError);
  EXPECT_THROW(TaskMapping::auto_map({8, 3}, 0), UserError);
}

TEST(Mapping, FactoryErrors) {
  EXPECT_THROW(sp({}), UserError);
  EXPECT_THROW(sp({4, 0}), UserError);
  EXPECT_THROW(rp({-1}), UserError);
  EXPECT_THROW(TaskMapping::spatial({4, 8}, {0, 0}), UserError);
  EXPECT_THROW(TaskMapping::repeat({4, 8}, {}, {LoopHint::unroll()}), UserError);
  EXPECT_THROW(sp({1 << 30, 1 << 30}) * rp({1 << 30, 1 << 30}), UserError);
  EXPECT_THROW(sp({4, 8}).tasks(32), UserError);
  try {
    (void)(sp({4, 8}) * rp({2}));
    FAIL() << "rank mismatch accepted";
  } catch (const UserError& error) {
    EXPECT_STREQ(error.what(),
                 "cannot compose spatial(4, 8) with repeat(2): ranks differ (2 vs 1)");
  }
}

TEST(Mapping, LoweringReadsLikeHandWrittenCode) {
  const Var w = var("w");
  TaskMapping::Lowered lowered = (sp({4, 8}) * rp({2, 2})).lower(w);
  ASSERT_EQ(lowered.loop_vars.size(), 2u);
  EXPECT_EQ(lowered.extents, (std::vector<int64_t>{2, 2}));
  // task0 = w / 8 * 2 + r0: the slowest spatial digit needs no modulo.
  const auto* add = lowered.task[0].as<BinaryNode>();
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op, BinaryOp::add);
  EXPECT_TRUE(add->b.same_as(lowered.loop_vars[0]));
  const auto* mul = add->a.as<BinaryNode>();
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(mul->op, BinaryOp::mul);
  EXPECT_TRUE(is_const_int(mul->b, 2));
  const auto* div = mul->a.as<BinaryNode>();
  ASSERT_NE(div, nullptr);
  EXPECT_EQ(div->op, BinaryOp::div);
  EXPECT_TRUE(div->a.same_as(w));
  EXPECT_TRUE(is_const_int(div->b, 8));
  // A pure spatial mapping has no loops, and a single-worker mapping does not use the worker.
  EXPECT_TRUE(sp({4, 8}).lower(w).loop_vars.empty());
  EXPECT_EQ(rp({3}).lower(w).task[0].kind(), NodeKind::Var);
  EXPECT_EQ(sp({1, 1}).lower(w).task[0].kind(), NodeKind::IntImm);
}

// ---- the text form --------------------------------------------------------------------------

TEST(MappingText, PrintsAndParses) {
  EXPECT_EQ((sp({4, 8}) * rp({2, 2})).str(), "spatial(4, 8) * repeat(2, 2)");
  EXPECT_EQ(TaskMapping::col_spatial({4, 8}).str(), "col_spatial(4, 8)");
  EXPECT_EQ(TaskMapping::col_repeat({4, 8}).str(), "col_repeat(4, 8)");
  EXPECT_EQ(TaskMapping::spatial({2, 3, 4}, {0, 2, 1}).str(), "spatial(2, 3, 4, ranks=[0, 2, 1])");
  EXPECT_EQ(TaskMapping::parse("spatial(4,8)*repeat(2,2)"), sp({4, 8}) * rp({2, 2}));
  EXPECT_EQ(TaskMapping::parse("  repeat( 2 ,1 )*\tspatial(8,4) * repeat(1,2) "),
            rp({2, 1}) * sp({8, 4}) * rp({1, 2}));
  EXPECT_EQ(TaskMapping::parse("auto_map(8, 96, workers=64)"), rp({4, 3}) * sp({2, 32}));
  EXPECT_EQ(TaskMapping::parse("col_spatial(4, 8)"), TaskMapping::col_spatial({4, 8}));
  EXPECT_EQ(TaskMapping::parse("repeat(4, hints=[parallel(8)])"),
            TaskMapping::repeat({4}, {}, {LoopHint::parallel(8)}));
}

std::string parse_error(const std::string& text) {
  try {
    TaskMapping::parse(text);
  } catch (const UserError& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(MappingText, ErrorsPointAtTheColumn) {
  EXPECT_EQ(parse_error("spatial(4,)"),
            "invalid mapping expression 'spatial(4,)' at column 11: expected an integer");
  EXPECT_EQ(parse_error("spatail(4, 8)"),
            "invalid mapping expression 'spatail(4, 8)' at column 1: unknown mapping 'spatail'; "
            "expected spatial, repeat, col_spatial, col_repeat or auto_map");
  EXPECT_EQ(parse_error("spatial(4, 0)"),
            "invalid mapping expression 'spatial(4, 0)' at column 12: an extent must be positive, "
            "got 0");
  EXPECT_EQ(parse_error("spatial(4, 8) * repeat(2)"),
            "invalid mapping expression 'spatial(4, 8) * repeat(2)' at column 15: cannot compose "
            "spatial(4, 8) with repeat(2): ranks differ (2 vs 1)");
  EXPECT_EQ(parse_error("spatial(4, 8"),
            "invalid mapping expression 'spatial(4, 8' at column 13: expected ')'");
  EXPECT_EQ(parse_error("spatial(4) repeat(2)"),
            "invalid mapping expression 'spatial(4) repeat(2)' at column 12: expected '*' or the "
            "end of the expression");
  EXPECT_EQ(parse_error(""),
            "invalid mapping expression '' at column 1: expected a mapping name (spatial, repeat, "
            "...)");
  EXPECT_NE(parse_error("spatial(99999999999999999999)").find("integer is too large"),
            std::string::npos);
  EXPECT_NE(parse_error("spatial(4294967296, 4294967296)").find("overflows a 64-bit integer"),
            std::string::npos);
  EXPECT_NE(parse_error("auto_map(8, 32)").find("auto_map needs 'workers=N'"), std::string::npos);
  EXPECT_NE(parse_error("spatial(8, workers=2)").find("'workers' does not apply to spatial"),
            std::string::npos);
  EXPECT_NE(parse_error("auto_map(8, 3, workers=16)").find("cannot be split evenly"),
            std::string::npos);
  EXPECT_NE(parse_error("repeat(2, hints=[fast])").find("unknown loop hint 'fast'"),
            std::string::npos);
}

// ---- property test over random compositions --------------------------------------------------

// An independent model of a mapping, straight from the definition: a primitive lists its grid in
// rank order (the highest-rank dim fastest), computed by sorting rather than by strides.
struct Model {
  bool is_spatial = false;
  std::vector<int64_t> shape;
  std::vector<int> ranks;
  std::shared_ptr<Model> outer, inner;  // set for compositions

  int64_t workers() const {
    if (outer) return outer->workers() * inner->workers();
    return is_spatial ? std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>())
                      : 1;
  }
  std::vector<int64_t> task_shape() const {
    if (!outer) return shape;
    std::vector<int64_t> s = outer->task_shape();
    const std::vector<int64_t> t = inner->task_shape();
    for (size_t i = 0; i < s.size(); ++i) s[i] *= t[i];
    return s;
  }
  Tasks rank_order() const {
    Tasks grid{{}};
    for (int64_t extent : shape) {
      Tasks next;
      for (const TaskIndex& t : grid) {
        for (int64_t i = 0; i < extent; ++i) {
          next.push_back(t);
          next.back().push_back(i);
        }
      }
      grid = next;
    }
    std::vector<size_t> dims(shape.size());
    std::iota(dims.begin(), dims.end(), 0);
    std::sort(dims.begin(), dims.end(), [&](size_t a, size_t b) { return ranks[a] < ranks[b]; });
    std::sort(grid.begin(), grid.end(), [&](const TaskIndex& a, const TaskIndex& b) {
      for (size_t d : dims) {
        if (a[d] != b[d]) return a[d] < b[d];
      }
      return false;
    });
    return grid;
  }
  Tasks tasks(int64_t w) const {
    if (!outer) return is_spatial ? Tasks{rank_order()[w]} : rank_order();
    const std::vector<int64_t> t_inner = inner->task_shape();
    Tasks result;
    for (const TaskIndex& a : outer->tasks(w / inner->workers())) {
      for (const TaskIndex& b : inner->tasks(w % inner->workers())) {
        TaskIndex task(a.size());
        for (size_t i = 0; i < a.size(); ++i) task[i] = a[i] * t_inner[i] + b[i];
        result.push_back(task);
      }
    }
    return result;
  }
};

struct Random {
  std::mt19937 engine{20230325};
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine);
  }
};

// A random composition tree of 1..4 primitives with random grouping, ranks and extents 1..3.
std::pair<TaskMapping, std::shared_ptr<Model>> random_mapping(Random& rng, int rank, int factors) {
  if (factors == 1) {
    auto model = std::make_shared<Model>();
    model->is_spatial = rng.uniform(0, 1) == 1;
    for (int i = 0; i < rank; ++i) model->shape.push_back(rng.uniform(1, 3));
    model->ranks.resize(rank);
    std::iota(model->ranks.begin(), model->ranks.end(), 0);
    std::shuffle(model->ranks.begin(), model->ranks.end(), rng.engine);
    TaskMapping m = model->is_spatial ? TaskMapping::spatial(model->shape, model->ranks)
                                      : TaskMapping::repeat(model->shape, model->ranks);
    return {m, model};
  }
  const int left = static_cast<int>(rng.uniform(1, factors - 1));
  auto [outer, outer_model] = random_mapping(rng, rank, left);
  auto [inner, inner_model] = random_mapping(rng, rank, factors - left);
  auto model = std::make_shared<Model>();
  model->outer = outer_model;
  model->inner = inner_model;
  return {outer * inner, model};
}

TEST(MappingProperty, RandomCompositionsMatchTheDefinition) {
  Random rng;
  int checked = 0;
  while (checked < 1500) {
    const int rank = static_cast<int>(rng.uniform(1, 4));
    auto [mapping, model] = random_mapping(rng, rank, static_cast<int>(rng.uniform(1, 4)));
    const std::vector<int64_t> shape = model->task_shape();
    const int64_t total =
        std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
    if (total > 2048) continue;
    ++checked;
    SCOPED_TRACE(mapping.str());
    ASSERT_EQ(mapping.num_workers(), model->workers());
    ASSERT_EQ(mapping.task_shape(), shape);
    ASSERT_EQ(mapping.tasks_per_worker() * mapping.num_workers(), total);

    // Every task of the grid is assigned exactly once.
    std::vector<int> seen(total, 0);
    for (int64_t w = 0; w < mapping.num_workers(); ++w) {
      const Tasks tasks = mapping.tasks(w);
      ASSERT_EQ(static_cast<int64_t>(tasks.size()), mapping.tasks_per_worker());
      ASSERT_EQ(tasks, model->tasks(w)) << "worker " << w;
      ASSERT_EQ(run_lowered(mapping, w), tasks) << "lowering, worker " << w;
      for (const TaskIndex& t : tasks) {
        int64_t linear = 0;
        for (size_t i = 0; i < t.size(); ++i) {
          ASSERT_TRUE(t[i] >= 0 && t[i] < shape[i]);
          linear = linear * shape[i] + t[i];
        }
        ++seen[linear];
      }
    }
    ASSERT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));

    for (const Expr& e : mapping.lower(var("w")).task) ASSERT_FALSE(has_trivial_arithmetic(e));
    ASSERT_EQ(TaskMapping::parse(mapping.str()), mapping);
  }
}

}  // namespace
}  // namespace taskmap::ir
