// NDArray element access: the hand-written f16 / bf16 conversions agree with the compiler's own
// conversions on every half value and on random floats; reshape shares storage.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "taskmap/error.h"
#include "taskmap/runtime/ndarray.h"

namespace {

using taskmap::NDArray;
namespace ir = taskmap::ir;

TEST(NDArray, F16ReadsEveryHalfValueLikeTheCompiler) {
  NDArray a(ir::f16, {65536});
  for (int i = 0; i < 65536; ++i) a.data<uint16_t>()[i] = static_cast<uint16_t>(i);
  for (int i = 0; i < 65536; ++i) {
    double expected = static_cast<double>(std::bit_cast<_Float16>(static_cast<uint16_t>(i)));
    double got = a.get_double(i);
    if (std::isnan(expected))
      EXPECT_TRUE(std::isnan(got)) << i;
    else
      EXPECT_EQ(got, expected) << "half bits " << i;
  }
}

TEST(NDArray, F16WritesRoundLikeTheCompiler) {
  std::mt19937 rng(7);
  NDArray a(ir::f16, {1});
  for (int i = 0; i < 200000; ++i) {
    // Random bit patterns cover normals, subnormals, overflow and NaN.
    float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (i % 2)
      f = std::ldexp(static_cast<float>(rng() % 100000) / 7.0f, static_cast<int>(rng() % 40) - 30);
    a.set_double(0, f);
    uint16_t expected = std::bit_cast<uint16_t>(static_cast<_Float16>(f));
    uint16_t got = a.data<uint16_t>()[0];
    if (std::isnan(f))
      EXPECT_EQ(got & 0x7c00, 0x7c00) << f;
    else
      EXPECT_EQ(got, expected) << "float " << f;
  }
}

TEST(NDArray, Bf16RoundsToNearestEven) {
  NDArray a(ir::bf16, {3});
  a.set_double(0, 1.0);
  a.set_double(1, std::bit_cast<float>(0x3f808000u));  // halfway: rounds to even (0x3f80)
  a.set_double(2, std::bit_cast<float>(0x3f818000u));  // halfway: rounds to even (0x3f82)
  EXPECT_EQ(a.data<uint16_t>()[0], 0x3f80);
  EXPECT_EQ(a.data<uint16_t>()[1], 0x3f80);
  EXPECT_EQ(a.data<uint16_t>()[2], 0x3f82);
  EXPECT_EQ(a.get_double(2), 1.015625);
}

TEST(NDArray, ReshapeSharesStorageAndChecksCount) {
  NDArray a(ir::i32, {2, 3});
  for (int i = 0; i < 6; ++i) a.set_int(i, 10 * i - 7);
  NDArray b = a.reshaped({3, 2});
  b.set_int(5, 99);
  EXPECT_EQ(a.get_int(5), 99);
  EXPECT_EQ(a.get_int(0), -7);
  EXPECT_THROW(a.reshaped({4, 2}), taskmap::UserError);
  EXPECT_EQ(a.clone().get_int(5), 99);
}

}  // namespace
