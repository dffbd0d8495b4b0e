// A malformed template is reported as a UserError that names what is wrong, at build() time.
#include <gtest/gtest.h>

#include "taskmap/error.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::lang {
namespace {

using namespace ir;

std::string build_error(const std::function<void(KernelBuilder&)>& write) {
  KernelBuilder kb("bad_template");
  try {
    write(kb);
    kb.build();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(MalformedTemplate, MappingTaskShapeDoesNotCoverTheTensorItDrives) {
  // spatial(4, 8) * repeat(2, 2) covers an (8, 16) task grid, but the tile is only 8 x 8.
  std::string message = build_error([](KernelBuilder& kb) {
    Var c = kb.param("c", Type::tensor(f32, {8, 8}));
    kb.for_range("w", 32, LoopHint::parallel(), [&](const Var& w) {
      kb.for_mapping(TaskMapping::spatial({4, 8}) * TaskMapping::repeat({2, 2}), w,
                     [&](const Index& ij) { kb.store(c, ij, 0.0f); });
    });
  });
  EXPECT_NE(message.find("kernel 'bad_template'"), std::string::npos) << message;
  EXPECT_NE(message.find("index 1 of tensor 'c' (shape (8, 8)) ranges over [0, 15]"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("mapping spatial(4, 8) * repeat(2, 2)"), std::string::npos) << message;
  EXPECT_NE(message.find("task shape is (8, 16)"), std::string::npos) << message;
}

TEST(MalformedTemplate, LoopDrivesMoreWorkersThanTheMappingHas) {
  std::string message = build_error([](KernelBuilder& kb) {
    Var c = kb.param("c", Type::tensor(f32, {4, 8}));
    kb.for_range("w", 64, LoopHint::parallel(), [&](const Var& w) {
      kb.for_mapping(TaskMapping::spatial({4, 8}), w,
                     [&](const Index& ij) { kb.store(c, ij, 0.0f); });
    });
  });
  EXPECT_NE(message.find("mapping spatial(4, 8) has 32 workers, but its worker `w` ranges over "
                         "[0, 63]"),
            std::string::npos)
      << message;
}

TEST(MalformedTemplate, RegisterTileSmallerThanTheMicroMapping) {
  std::string message = build_error([](KernelBuilder& kb) {
    Var c = kb.param("c", Type::tensor(f32, {4, 4}));
    Var acc = kb.register_tensor("acc", f32, Layout::row_major({2, 4}));
    kb.for_mapping(TaskMapping::repeat({4, 4}), 0, [&](const Index& ij) {
      kb.store(acc, ij, 1.0f);
      kb.store(c, ij, load(acc, ij));
    });
  });
  EXPECT_NE(message.find("index 0 of tensor 'acc' (shape (2, 4)) ranges over [0, 3]"),
            std::string::npos)
      << message;
}

TEST(MalformedTemplate, GuardedEdgeAccessesAreAccepted) {
  // The matmul-style edge guard `if row < 10` proves the store in range.
  std::string message = build_error([](KernelBuilder& kb) {
    Var c = kb.param("c", Type::tensor(f32, {10}));
    kb.for_range("w", 3, LoopHint::parallel(), [&](const Var& w) {
      kb.for_mapping(TaskMapping::repeat({4}), 0, [&](const Index& i) {
        Expr row = w * 4 + i[0];
        kb.if_then(row < 10, [&] { kb.store(c, {row}, 1.0f); });
      });
    });
  });
  EXPECT_EQ(message, "");
}

TEST(MalformedTemplate, WrongRankIndexingIsReportedWithTheTensorName) {
  std::string message = build_error([](KernelBuilder& kb) {
    Var c = kb.param("c", Type::tensor(f32, {4, 4}));
    kb.for_range("i", 4, [&](const Var& i) { kb.store(c, {i}, 0.0f); });
  });
  EXPECT_NE(message.find("'c'"), std::string::npos) << message;
  EXPECT_NE(message.find("1 indices; it has 2 dimensions"), std::string::npos) << message;
}

}  // namespace
}  // namespace taskmap::lang
