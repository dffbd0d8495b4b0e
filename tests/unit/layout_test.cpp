// Data layouts: offsets and sizes of each kind, composition, concatenation and swizzle examples
// (hidet-design.md §2.6), the register layouts that mirror task mappings (§2.7), and property
// tests: offsets lie in [0, size), strided / row-major layouts and their compositions are
// bijective, and the symbolic offset agrees with the concrete one.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "taskmap/arith/evaluate.h"
#include "taskmap/error.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/layout.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {
namespace {

using Index = std::vector<int64_t>;

// ---- helpers ---------------------------------------------------------------------------------

// Index expressions are evaluated by the arithmetic layer's evaluator (C semantics).
using Env = arith::Env;

int64_t eval(const Expr& e, const Env& env) {
  return arith::evaluate_scalar(e, env).i;
}

// Calls `f` on every index of `shape`, in row-major order.
void for_each_index(const std::vector<int64_t>& shape, const std::function<void(const Index&)>& f) {
  Index index(shape.size(), 0);
  while (true) {
    f(index);
    size_t d = shape.size();
    while (d > 0 && ++index[d - 1] == shape[d - 1]) index[--d] = 0;
    if (d == 0) return;
  }
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Checks that every offset lies in [0, size), that the symbolic offset agrees, and, when
// `bijective`, that the offsets are exactly 0..size-1.
void check_layout(const Layout& layout, bool bijective) {
  SCOPED_TRACE(layout.str());
  std::vector<Var> vars;
  std::vector<Expr> symbolic_index;
  for (int i = 0; i < layout.rank(); ++i) {
    vars.push_back(var("i" + std::to_string(i)));
    symbolic_index.push_back(vars.back());
  }
  const Expr symbolic = layout.offset(symbolic_index);
  std::vector<int> hits(layout.size(), 0);
  for_each_index(layout.shape(), [&](const Index& index) {
    const int64_t offset = layout.offset(index);
    ASSERT_TRUE(offset >= 0 && offset < layout.size()) << "offset " << offset;
    Env env;
    for (size_t i = 0; i < index.size(); ++i) env[vars[i]] = arith::Value::of_int(index[i]);
    ASSERT_EQ(eval(symbolic, env), offset);
    ++hits[offset];
  });
  if (bijective) {
    ASSERT_EQ(layout.size(), numel(layout.shape()));
    ASSERT_TRUE(std::all_of(hits.begin(), hits.end(), [](int n) { return n == 1; }));
  }
}

// ---- each kind -------------------------------------------------------------------------------

TEST(Layout, RowAndColumnMajor) {
  Layout r = Layout::row_major({3, 4, 5});
  EXPECT_EQ(r.rank(), 3);
  EXPECT_EQ(r.size(), 60);
  EXPECT_EQ(r.offset(Index{1, 2, 3}), 1 * 20 + 2 * 5 + 3);
  Layout c = Layout::column_major({3, 4, 5});
  EXPECT_EQ(c.size(), 60);
  EXPECT_EQ(c.offset(Index{1, 2, 3}), 1 + 2 * 3 + 3 * 12);
  EXPECT_EQ(r.str(), "row_major(3, 4, 5)");
  EXPECT_EQ(c.str(), "column_major(3, 4, 5)");
  EXPECT_EQ(r, Layout::strided({3, 4, 5}, {20, 5, 1}));
  EXPECT_NE(r, c);
}

TEST(Layout, Strided) {
  Layout s = Layout::strided({4, 8}, {16, 1});  // a 4x8 window of a 4x16 buffer
  EXPECT_EQ(s.size(), 3 * 16 + 7 + 1);
  EXPECT_EQ(s.offset(Index{2, 5}), 37);
  EXPECT_EQ(s.str(), "strided([4, 8], [16, 1])");
  EXPECT_EQ(Layout::strided({4}, {0}).size(), 1);  // broadcast
}

TEST(Layout, EmptyTensorsHaveSizeZero) {
  EXPECT_EQ(Layout::row_major({4, 0}).size(), 0);
  EXPECT_EQ(Layout::column_major({0}).size(), 0);
  EXPECT_EQ((Layout::row_major({0, 2}) * Layout::row_major({3, 3})).size(), 0);
  EXPECT_THROW(Layout::row_major({0, 8}).swizzle(0, 1), UserError);
}

TEST(Layout, Local) {
  Layout l = Layout::local({4, 8});
  EXPECT_EQ(l.size(), 1);
  EXPECT_EQ(l.offset(Index{3, 7}), 0);
  EXPECT_EQ(l.str(), "local(4, 8)");
}

TEST(Layout, Composition) {
  Layout tiled = Layout::row_major({2, 3}) * Layout::column_major({4, 5});
  EXPECT_EQ(tiled.shape(), (std::vector<int64_t>{8, 15}));
  EXPECT_EQ(tiled.size(), 120);
  // (6, 7): tile (1, 1) at offset 4, element (2, 2) inside it at offset 2 + 2*4 = 10.
  EXPECT_EQ(tiled.offset(Index{6, 7}), 4 * 20 + 10);
  EXPECT_EQ(tiled.str(), "row_major(2, 3) * column_major(4, 5)");
  Layout regs = Layout::local({4, 8}) * Layout::row_major({2, 2});
  EXPECT_EQ(regs.size(), 4);
  EXPECT_EQ(regs.offset(Index{3, 11}), 3);
}

TEST(Layout, Concat) {
  Layout buffered = Layout::row_major({2}).concat(Layout::row_major({4, 8}));
  EXPECT_EQ(buffered.rank(), 3);
  EXPECT_EQ(buffered.shape(), (std::vector<int64_t>{2, 4, 8}));
  EXPECT_EQ(buffered.size(), 64);
  EXPECT_EQ(buffered.offset(Index{1, 2, 3}), 32 + 19);
  EXPECT_EQ(buffered.str(), "concat(row_major(2), row_major(4, 8))");
}

TEST(Layout, Swizzle) {
  Layout s = Layout::row_major({8, 8}).swizzle(1, 0);
  for_each_index(
      {8, 8}, [&](const Index& idx) { EXPECT_EQ(s.offset(idx), idx[0] * 8 + (idx[1] ^ idx[0])); });
  EXPECT_EQ(s.str(), "row_major(8, 8).swizzle(1, 0)");
  Layout stepped = Layout::row_major({16, 4}).swizzle(1, 0, 2);
  EXPECT_EQ(stepped.offset(Index{13, 1}), 13 * 4 + (1 ^ ((13 >> 2) % 4)));
  check_layout(stepped, true);
}

TEST(Layout, Errors) {
  EXPECT_THROW(Layout::row_major({4, -1}), UserError);
  EXPECT_THROW(Layout::local({4, 0}), UserError);
  EXPECT_THROW(Layout::strided({4}, {1, 2}), UserError);
  EXPECT_THROW(Layout::strided({4}, {-1}), UserError);
  EXPECT_THROW(Layout::row_major({4}) * Layout::row_major({4, 4}), UserError);
  EXPECT_THROW(Layout::row_major({8, 6}).swizzle(1, 0), UserError);  // 6 is not a power of two
  EXPECT_THROW(Layout::row_major({8, 8}).swizzle(1, 1), UserError);
  EXPECT_THROW(Layout::row_major({8, 8}).swizzle(2, 0), UserError);
  EXPECT_THROW(Layout::row_major({int64_t{1} << 40}) * Layout::row_major({int64_t{1} << 30}),
               UserError);
  EXPECT_THROW(Layout::row_major({4, 4}).offset(Index{4, 0}), UserError);
  EXPECT_THROW(Layout::row_major({4, 4}).offset(Index{1}), UserError);
  try {
    Layout::row_major({8, 6}).swizzle(1, 0);
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find("not a power of two"), std::string::npos);
  }
}

TEST(Layout, SymbolicOffsetSkipsTrivialArithmetic) {
  const Var i = var("i"), j = var("j");
  // row_major(4, 8): i * 8 + j, nothing more.
  const Expr offset = Layout::row_major({4, 8}).offset({i, j});  // keeps the node alive
  const auto* add = offset.as<BinaryNode>();
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op, BinaryOp::add);
  EXPECT_TRUE(add->b.same_as(j));
  // A local layout's offset is the constant 0.
  EXPECT_TRUE(is_const_int(Layout::local({4, 8}).offset({i, j}), 0));
}

// ---- layouts that mirror mappings ------------------------------------------------------------

void check_mirror(const TaskMapping& mapping) {
  const Layout layout = Layout::mirror(mapping);
  SCOPED_TRACE(mapping.str() + " -> " + layout.str());
  ASSERT_EQ(layout.shape(), mapping.task_shape());
  ASSERT_EQ(layout.size(), mapping.tasks_per_worker());
  for (int64_t w = 0; w < mapping.num_workers(); ++w) {
    const std::vector<TaskIndex> tasks = mapping.tasks(w);
    for (size_t k = 0; k < tasks.size(); ++k) ASSERT_EQ(layout.offset(tasks[k]), int64_t(k));
  }
}

TEST(LayoutMirror, Examples) {
  const TaskMapping blocks = TaskMapping::spatial({4, 8}) * TaskMapping::repeat({2, 2});
  EXPECT_EQ(Layout::mirror(blocks), Layout::local({4, 8}) * Layout::row_major({2, 2}));
  EXPECT_EQ(Layout::mirror(blocks).str(), "local(4, 8) * row_major(2, 2)");
  check_mirror(blocks);
  const TaskMapping cyclic = TaskMapping::repeat({2, 2}) * TaskMapping::spatial({4, 8});
  EXPECT_EQ(Layout::mirror(cyclic), Layout::row_major({2, 2}) * Layout::local({4, 8}));
  check_mirror(cyclic);
  EXPECT_EQ(Layout::mirror(TaskMapping::col_repeat({2, 3})), Layout::column_major({2, 3}));
  const TaskMapping simt = TaskMapping::spatial({2, 2}) * TaskMapping::repeat({2, 2}) *
                           TaskMapping::spatial({4, 8}) * TaskMapping::repeat({4, 4});
  EXPECT_EQ(Layout::mirror(simt).size(), 64);
  check_mirror(simt);
}

struct Random {
  std::mt19937 engine{7};
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine);
  }
  std::vector<int64_t> shape(int rank, int64_t max_extent) {
    std::vector<int64_t> s;
    for (int i = 0; i < rank; ++i) s.push_back(uniform(1, max_extent));
    return s;
  }
  std::vector<int> ranks(int rank) {
    std::vector<int> r(rank);
    for (int i = 0; i < rank; ++i) r[i] = i;
    std::shuffle(r.begin(), r.end(), engine);
    return r;
  }
};

TEST(LayoutMirror, RandomMappings) {
  Random rng;
  for (int n = 0; n < 500; ++n) {
    const int rank = static_cast<int>(rng.uniform(1, 3));
    TaskMapping mapping;
    const int factors = static_cast<int>(rng.uniform(1, 4));
    for (int f = 0; f < factors; ++f) {
      TaskMapping factor = rng.uniform(0, 1)
                               ? TaskMapping::spatial(rng.shape(rank, 3), rng.ranks(rank))
                               : TaskMapping::repeat(rng.shape(rank, 3), rng.ranks(rank));
      mapping = mapping.defined() ? mapping * factor : factor;
    }
    check_mirror(mapping);
  }
}

// Random layouts larger than this are drawn again, to keep the exhaustive checks fast.
constexpr int64_t kMaxElements = 4096;

// ---- property tests over random layouts ------------------------------------------------------

// A random bijective layout: row-major / column-major / permuted strides, composed and
// concatenated, with power-of-two swizzles.
Layout random_bijective(Random& rng, int rank, int depth) {
  const int64_t choice = depth == 0 ? rng.uniform(0, 2) : rng.uniform(0, 5);
  switch (choice) {
    case 0:
      return Layout::row_major(rng.shape(rank, 4));
    case 1:
      return Layout::column_major(rng.shape(rank, 4));
    case 2: {
      // Dense strides in a random dim order.
      const std::vector<int64_t> shape = rng.shape(rank, 4);
      const std::vector<int> order = rng.ranks(rank);
      std::vector<int64_t> strides(rank);
      int64_t stride = 1;
      for (int d : order) {
        strides[d] = stride;
        stride *= shape[d];
      }
      return Layout::strided(shape, strides);
    }
    case 3:
      return random_bijective(rng, rank, depth - 1) * random_bijective(rng, rank, depth - 1);
    case 4: {
      if (rank == 1) return random_bijective(rng, rank, depth - 1);
      const int left = static_cast<int>(rng.uniform(1, rank - 1));
      return random_bijective(rng, left, depth - 1)
          .concat(random_bijective(rng, rank - left, depth - 1));
    }
    default: {
      if (rank == 1) return random_bijective(rng, rank, depth - 1);
      const int dim = static_cast<int>(rng.uniform(0, rank - 1));
      const int regards = static_cast<int>((dim + rng.uniform(1, rank - 1)) % rank);
      std::vector<int64_t> shape = rng.shape(rank, 4);
      shape[dim] = int64_t{1} << rng.uniform(0, 3);
      return Layout::row_major(shape).swizzle(dim, regards, static_cast<int>(rng.uniform(0, 2)));
    }
  }
}

TEST(LayoutProperty, BijectiveLayoutsAreBijective) {
  Random rng;
  for (int n = 0; n < 500;) {
    const Layout layout = random_bijective(rng, static_cast<int>(rng.uniform(1, 3)), 2);
    if (numel(layout.shape()) > kMaxElements) continue;
    check_layout(layout, true);
    ++n;
  }
}

TEST(LayoutProperty, OffsetsStayInRange) {
  Random rng;
  for (int n = 0; n < 300;) {
    const int rank = static_cast<int>(rng.uniform(1, 3));
    std::vector<int64_t> strides;
    for (int i = 0; i < rank; ++i) strides.push_back(rng.uniform(0, 9));
    Layout sparse = Layout::strided(rng.shape(rank, 4), strides);
    Layout mixed = sparse * Layout::local(rng.shape(rank, 3)) * random_bijective(rng, rank, 1);
    if (numel(mixed.shape()) > kMaxElements) continue;
    ++n;
    check_layout(sparse, false);
    check_layout(mixed, false);
    check_layout(Layout::local(rng.shape(rank, 3)).concat(mixed), false);
  }
}

}  // namespace
}  // namespace taskmap::ir
