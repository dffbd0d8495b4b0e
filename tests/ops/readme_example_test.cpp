// The README's kernel example, compiled and run: 32 workers each scale a 2x2 block of an 8x16
// tensor under spatial(4, 8) * repeat(2, 2).
#include "ops/ops_support.h"
#include "taskmap/lang/kernel_builder.h"

namespace taskmap::testing {
namespace {

using namespace ir;

TEST(ReadmeExample, BlockCopyWithTaskMappings) {
  lang::KernelBuilder kb("block_copy");
  Var a = kb.param("a", Type::tensor(f32, {8, 16}));
  Var c = kb.param("c", Type::tensor(f32, {8, 16}));
  kb.for_range("w", 32, LoopHint::parallel(), [&](const Var& w) {
    kb.for_mapping(TaskMapping::spatial({4, 8}) * TaskMapping::repeat({2, 2}), w,
                   [&](const Index& ij) { kb.store(c, ij, load(a, ij) * 2.0f); });
  });
  CompiledKernel k = compile_kernel(kb.build());
  std::vector<float> a_data = random_data(8 * 16), c_data = poisoned(8 * 16);
  k({a_data.data(), c_data.data()});
  std::vector<double> expected(a_data.begin(), a_data.end());
  for (double& v : expected) v *= 2;
  expect_close(c_data, expected, "block_copy");
}

}  // namespace
}  // namespace taskmap::testing
